/* Float32 NHWC convolution and matrix-product kernels on caller-owned memory (OpenBLAS GEMM). */
#ifndef MEDVAE_NATIVE_KERNELS_H
#define MEDVAE_NATIVE_KERNELS_H

#include <stddef.h>

/* Geometry of one 2-D convolution, NHWC input, [kh, kw, cin, cout] filter (tfjs layout). */
typedef struct {
  int batch, in_h, in_w, in_c;
  int out_h, out_w, out_c;
  int k_h, k_w;
  int stride_h, stride_w;
  int dil_h, dil_w;
  int pad_top, pad_left;
} conv_geom;

/* What to do with a product after the GEMM: add a bias over the last axis, then an activation. */
typedef enum { ACT_LINEAR = 0, ACT_RELU, ACT_RELU6, ACT_LEAKYRELU, ACT_ELU, ACT_SIGMOID } activation_kind;

typedef struct {
  const float *bias; /* NULL: none; else one value per output channel / column */
  activation_kind act;
  float alpha; /* leaky ReLU slope */
} epilogue;

/* Reusable scratch memory, grown on demand (one per Node environment / thread). */
typedef struct {
  float *data;
  size_t capacity; /* in floats */
} scratch_buf;

/* Returns NULL when memory is exhausted. */
float *scratch_reserve(scratch_buf *s, size_t floats);

/* Rows of the im2col matrix built at once: bounds scratch memory (see kernels.c). */
size_t conv_chunk_rows(const conv_geom *g);

/* Each returns 0, or -1 when scratch memory could not be allocated. */
int conv2d_forward(const conv_geom *g, const float *x, const float *w, float *y, const epilogue *ep, scratch_buf *s);
int conv2d_backprop_input(const conv_geom *g, const float *dy, const float *w, float *dx, scratch_buf *s);
int conv2d_backprop_filter(const conv_geom *g, const float *x, const float *dy, float *dw, scratch_buf *s);

/* C[b] = op(A[b]) · op(B[b]) for b < max(batch_a, batch_b); a batch of 1 is broadcast. */
void batch_matmul(const float *a, const float *b, float *c, int batch_a, int batch_b, int m, int n, int k,
                  int transpose_a, int transpose_b, const epilogue *ep);

void apply_epilogue(float *y, size_t rows, int cols, const epilogue *ep);

/* Geometry of one 3-D convolution, NDHWC input, [kd, kh, kw, cin, cout] filter (tfjs layout). */
typedef struct {
  int batch, in_d, in_h, in_w, in_c;
  int out_d, out_h, out_w, out_c;
  int k_d, k_h, k_w;
  int stride_d, stride_h, stride_w;
  int dil_d, dil_h, dil_w;
  int pad_front, pad_top, pad_left;
} conv3_geom;

/* The 3-D counterparts of the 2-D kernels above (vol2col + GEMM); same return values. */
int conv3d_forward(const conv3_geom *g, const float *x, const float *w, float *y, scratch_buf *s);
int conv3d_backprop_input(const conv3_geom *g, const float *dy, const float *w, float *dx, scratch_buf *s);
int conv3d_backprop_filter(const conv3_geom *g, const float *x, const float *dy, float *dw, scratch_buf *s);

#endif
