/*
 * Convolutions as GEMMs. With NHWC data and tfjs's [kh, kw, cin, cout] filter layout, the im2col
 * matrix of a convolution has one row per output pixel and one column per (ky, kx, c), in the
 * same order as the filter's rows, so every product below runs without transposing anything
 * but the operands' roles:
 *   forward:         Y[rows, cout]  = col[rows, K] · W[K, cout]
 *   input gradient:  dcol[rows, K]  = dY[rows, cout] · Wᵀ,  then dX += col2im(dcol)
 *   filter gradient: dW[K, cout]   += colᵀ · dY[rows, cout]
 * with rows = N·outH·outW and K = kh·kw·cin. The im2col matrix is built a chunk of rows at a time
 * (rows may span images) so that scratch memory stays bounded whatever the batch size.
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* About 4 MiB of im2col rows per GEMM: large enough for OpenBLAS to run near its peak, small
 * enough to stay in the last-level cache while the GEMM packs it. */
#define CHUNK_FLOATS ((size_t)1 << 20)
/* A GEMM with fewer rows than this runs far below peak; allow more memory rather than go lower. */
#define MIN_CHUNK_ROWS ((size_t)256)

float *scratch_reserve(scratch_buf *s, size_t floats) {
  if (floats <= s->capacity) return s->data;
  float *grown = (float *)malloc(floats * sizeof(float));
  if (grown == NULL) return NULL;
  free(s->data);
  s->data = grown;
  s->capacity = floats;
  return grown;
}

static size_t total_rows(const conv_geom *g) { return (size_t)g->batch * g->out_h * g->out_w; }
static size_t col_width(const conv_geom *g) { return (size_t)g->k_h * g->k_w * g->in_c; }

size_t conv_chunk_rows(const conv_geom *g) {
  size_t rows = total_rows(g);
  size_t chunk = CHUNK_FLOATS / col_width(g);
  if (chunk < MIN_CHUNK_ROWS) chunk = MIN_CHUNK_ROWS;
  return chunk < rows ? chunk : rows;
}

/* A 1×1, stride-1, unpadded convolution is a plain product of the input with the filter. */
static int is_pointwise(const conv_geom *g) {
  return g->k_h == 1 && g->k_w == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_top == 0 && g->pad_left == 0 &&
         g->out_h == g->in_h && g->out_w == g->in_w;
}

/* Fills col[r - r0] for output rows r0 … r1-1 (zeros where the window leaves the input). */
static void im2col(const conv_geom *g, const float *x, float *col, size_t r0, size_t r1) {
  const size_t c = (size_t)g->in_c;
  const size_t run = (size_t)g->k_w * c;
  const size_t pixels = (size_t)g->out_h * g->out_w;
  float *dst = col;
  for (size_t r = r0; r < r1; r++) {
    const size_t n = r / pixels, p = r % pixels;
    const int oy = (int)(p / g->out_w), ox = (int)(p % g->out_w);
    const int ix0 = ox * g->stride_w - g->pad_left;
    const int contiguous = g->dil_w == 1 && ix0 >= 0 && ix0 + g->k_w <= g->in_w;
    for (int ky = 0; ky < g->k_h; ky++) {
      const int iy = oy * g->stride_h - g->pad_top + ky * g->dil_h;
      if (iy < 0 || iy >= g->in_h) {
        memset(dst, 0, run * sizeof(float));
        dst += run;
        continue;
      }
      const float *row = x + ((n * g->in_h + (size_t)iy) * g->in_w) * c;
      if (contiguous) {
        memcpy(dst, row + (size_t)ix0 * c, run * sizeof(float));
        dst += run;
        continue;
      }
      for (int kx = 0; kx < g->k_w; kx++) {
        const int ix = ix0 + kx * g->dil_w;
        if (ix < 0 || ix >= g->in_w) memset(dst, 0, c * sizeof(float));
        else memcpy(dst, row + (size_t)ix * c, c * sizeof(float));
        dst += c;
      }
    }
  }
}

/* Adds col[r - r0] back onto the input positions it was read from (the adjoint of im2col). */
static void col2im_add(const conv_geom *g, const float *col, float *dx, size_t r0, size_t r1) {
  const size_t c = (size_t)g->in_c;
  const size_t pixels = (size_t)g->out_h * g->out_w;
  const float *src = col;
  for (size_t r = r0; r < r1; r++) {
    const size_t n = r / pixels, p = r % pixels;
    const int oy = (int)(p / g->out_w), ox = (int)(p % g->out_w);
    const int ix0 = ox * g->stride_w - g->pad_left;
    for (int ky = 0; ky < g->k_h; ky++) {
      const int iy = oy * g->stride_h - g->pad_top + ky * g->dil_h;
      if (iy < 0 || iy >= g->in_h) {
        src += (size_t)g->k_w * c;
        continue;
      }
      float *row = dx + ((n * g->in_h + (size_t)iy) * g->in_w) * c;
      for (int kx = 0; kx < g->k_w; kx++, src += c) {
        const int ix = ix0 + kx * g->dil_w;
        if (ix < 0 || ix >= g->in_w) continue;
        float *d = row + (size_t)ix * c;
        for (size_t i = 0; i < c; i++) d[i] += src[i];
      }
    }
  }
}

void apply_epilogue(float *y, size_t rows, int cols, const epilogue *ep) {
  if (ep == NULL || (ep->bias == NULL && ep->act == ACT_LINEAR)) return;
  for (size_t r = 0; r < rows; r++) {
    float *v = y + r * (size_t)cols;
    if (ep->bias != NULL)
      for (int j = 0; j < cols; j++) v[j] += ep->bias[j];
    switch (ep->act) {
      case ACT_LINEAR:
        break;
      case ACT_RELU:
        for (int j = 0; j < cols; j++) v[j] = v[j] > 0.f ? v[j] : 0.f;
        break;
      case ACT_RELU6:
        for (int j = 0; j < cols; j++) v[j] = v[j] > 0.f ? (v[j] < 6.f ? v[j] : 6.f) : 0.f;
        break;
      case ACT_LEAKYRELU:
        for (int j = 0; j < cols; j++) v[j] = v[j] >= 0.f ? v[j] : ep->alpha * v[j];
        break;
      case ACT_ELU:
        for (int j = 0; j < cols; j++) v[j] = v[j] >= 0.f ? v[j] : expm1f(v[j]);
        break;
      case ACT_SIGMOID:
        for (int j = 0; j < cols; j++) v[j] = 1.f / (1.f + expf(-v[j]));
        break;
    }
  }
}

int conv2d_forward(const conv_geom *g, const float *x, const float *w, float *y, const epilogue *ep, scratch_buf *s) {
  const size_t rows = total_rows(g), k = col_width(g);
  const int cout = g->out_c;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, cout, (int)k, 1.f, x, (int)k, w, cout, 0.f, y, cout);
    apply_epilogue(y, rows, cout, ep);
    return 0;
  }
  const size_t chunk = conv_chunk_rows(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    im2col(g, x, col, r0, r1);
    float *out = y + r0 * (size_t)cout;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), cout, (int)k, 1.f, col, (int)k, w, cout, 0.f, out, cout);
    apply_epilogue(out, r1 - r0, cout, ep);
  }
  return 0;
}

int conv2d_backprop_input(const conv_geom *g, const float *dy, const float *w, float *dx, scratch_buf *s) {
  const size_t rows = total_rows(g), k = col_width(g);
  const int cout = g->out_c;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, cout, 1.f, dy, cout, w, cout, 0.f, dx, (int)k);
    return 0;
  }
  const size_t chunk = conv_chunk_rows(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  memset(dx, 0, (size_t)g->batch * g->in_h * g->in_w * g->in_c * sizeof(float));
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)k, cout, 1.f, dy + r0 * (size_t)cout, cout, w, cout, 0.f,
                col, (int)k);
    col2im_add(g, col, dx, r0, r1);
  }
  return 0;
}

int conv2d_backprop_filter(const conv_geom *g, const float *x, const float *dy, float *dw, scratch_buf *s) {
  const size_t rows = total_rows(g), k = col_width(g);
  const int cout = g->out_c;
  if (is_pointwise(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, cout, (int)rows, 1.f, x, (int)k, dy, cout, 0.f, dw, cout);
    return 0;
  }
  const size_t chunk = conv_chunk_rows(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    im2col(g, x, col, r0, r1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, cout, (int)(r1 - r0), 1.f, col, (int)k, dy + r0 * (size_t)cout, cout,
                r0 == 0 ? 0.f : 1.f, dw, cout);
  }
  return 0;
}

void batch_matmul(const float *a, const float *b, float *c, int batch_a, int batch_b, int m, int n, int k,
                  int transpose_a, int transpose_b, const epilogue *ep) {
  const enum CBLAS_TRANSPOSE ta = transpose_a ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE tb = transpose_b ? CblasTrans : CblasNoTrans;
  const int lda = transpose_a ? m : k, ldb = transpose_b ? k : n;
  if (batch_b == 1 && !transpose_a) {
    /* One right-hand matrix: the left-hand batch is just more rows of one product. */
    const int rows = batch_a * m;
    cblas_sgemm(CblasRowMajor, ta, tb, rows, n, k, 1.f, a, lda, b, ldb, 0.f, c, n);
    apply_epilogue(c, (size_t)rows, n, ep);
    return;
  }
  const int batch = batch_a > batch_b ? batch_a : batch_b;
  const size_t sa = (size_t)m * k, sb = (size_t)k * n, sc = (size_t)m * n;
  for (int i = 0; i < batch; i++) {
    const float *ai = a + (batch_a == 1 ? 0 : i * sa);
    const float *bi = b + (batch_b == 1 ? 0 : i * sb);
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.f, ai, lda, bi, ldb, 0.f, c + i * sc, n);
  }
  apply_epilogue(c, (size_t)batch * m, n, ep);
}
