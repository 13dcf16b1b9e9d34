/*
 * 3-D convolutions as GEMMs, the same scheme as the 2-D ones in kernels.c with one more spatial
 * axis. With NDHWC data and tfjs's [kd, kh, kw, cin, cout] filter layout, the vol2col matrix has one
 * row per output voxel and one column per (kz, ky, kx, c), in the order of the filter's rows:
 *   forward:         Y[rows, cout]  = col[rows, K] · W[K, cout]
 *   input gradient:  dcol[rows, K]  = dY[rows, cout] · Wᵀ,  then dX += col2vol(dcol)
 *   filter gradient: dW[K, cout]   += colᵀ · dY[rows, cout]
 * with rows = N·outD·outH·outW and K = kd·kh·kw·cin, built a chunk of rows at a time so that
 * scratch memory stays bounded.
 */
#include "kernels.h"

#include <cblas.h>
#include <string.h>

/* Same chunking rule as kernels.c: about 4 MiB of vol2col rows, at least 256 rows per GEMM. */
#define CHUNK_FLOATS ((size_t)1 << 20)
#define MIN_CHUNK_ROWS ((size_t)256)

static size_t rows3(const conv3_geom *g) { return (size_t)g->batch * g->out_d * g->out_h * g->out_w; }
static size_t width3(const conv3_geom *g) { return (size_t)g->k_d * g->k_h * g->k_w * g->in_c; }

static size_t chunk3(const conv3_geom *g) {
  size_t rows = rows3(g);
  size_t chunk = CHUNK_FLOATS / width3(g);
  if (chunk < MIN_CHUNK_ROWS) chunk = MIN_CHUNK_ROWS;
  return chunk < rows ? chunk : rows;
}

/* A 1×1×1, stride-1, unpadded convolution is a plain product of the input with the filter. */
static int pointwise3(const conv3_geom *g) {
  return g->k_d == 1 && g->k_h == 1 && g->k_w == 1 && g->stride_d == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_front == 0 &&
         g->pad_top == 0 && g->pad_left == 0 && g->out_d == g->in_d && g->out_h == g->in_h && g->out_w == g->in_w;
}

/* Position of output row r: batch n and output voxel (oz, oy, ox). */
static void locate(const conv3_geom *g, size_t r, size_t *n, int *oz, int *oy, int *ox) {
  const size_t plane = (size_t)g->out_h * g->out_w, volume = plane * g->out_d;
  *n = r / volume;
  const size_t v = r % volume;
  *oz = (int)(v / plane);
  *oy = (int)((v % plane) / g->out_w);
  *ox = (int)(v % g->out_w);
}

/* Fills col[r - r0] for output rows r0 … r1-1 (zeros where the window leaves the input). */
static void vol2col(const conv3_geom *g, const float *x, float *col, size_t r0, size_t r1) {
  const size_t c = (size_t)g->in_c;
  const size_t run = (size_t)g->k_w * c;
  float *dst = col;
  for (size_t r = r0; r < r1; r++) {
    size_t n;
    int oz, oy, ox;
    locate(g, r, &n, &oz, &oy, &ox);
    const int ix0 = ox * g->stride_w - g->pad_left;
    const int contiguous = g->dil_w == 1 && ix0 >= 0 && ix0 + g->k_w <= g->in_w;
    for (int kz = 0; kz < g->k_d; kz++) {
      const int iz = oz * g->stride_d - g->pad_front + kz * g->dil_d;
      for (int ky = 0; ky < g->k_h; ky++) {
        const int iy = oy * g->stride_h - g->pad_top + ky * g->dil_h;
        if (iz < 0 || iz >= g->in_d || iy < 0 || iy >= g->in_h) {
          memset(dst, 0, run * sizeof(float));
          dst += run;
          continue;
        }
        const float *row = x + (((n * g->in_d + (size_t)iz) * g->in_h + (size_t)iy) * g->in_w) * c;
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
}

/* Adds col[r - r0] back onto the input positions it was read from (the adjoint of vol2col). */
static void col2vol_add(const conv3_geom *g, const float *col, float *dx, size_t r0, size_t r1) {
  const size_t c = (size_t)g->in_c;
  const size_t run = (size_t)g->k_w * c;
  const float *src = col;
  for (size_t r = r0; r < r1; r++) {
    size_t n;
    int oz, oy, ox;
    locate(g, r, &n, &oz, &oy, &ox);
    const int ix0 = ox * g->stride_w - g->pad_left;
    for (int kz = 0; kz < g->k_d; kz++) {
      const int iz = oz * g->stride_d - g->pad_front + kz * g->dil_d;
      for (int ky = 0; ky < g->k_h; ky++) {
        const int iy = oy * g->stride_h - g->pad_top + ky * g->dil_h;
        if (iz < 0 || iz >= g->in_d || iy < 0 || iy >= g->in_h) {
          src += run;
          continue;
        }
        float *row = dx + (((n * g->in_d + (size_t)iz) * g->in_h + (size_t)iy) * g->in_w) * c;
        for (int kx = 0; kx < g->k_w; kx++, src += c) {
          const int ix = ix0 + kx * g->dil_w;
          if (ix < 0 || ix >= g->in_w) continue;
          float *d = row + (size_t)ix * c;
          for (size_t i = 0; i < c; i++) d[i] += src[i];
        }
      }
    }
  }
}

int conv3d_forward(const conv3_geom *g, const float *x, const float *w, float *y, scratch_buf *s) {
  const size_t rows = rows3(g), k = width3(g);
  const int cout = g->out_c;
  if (pointwise3(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, cout, (int)k, 1.f, x, (int)k, w, cout, 0.f, y, cout);
    return 0;
  }
  const size_t chunk = chunk3(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    vol2col(g, x, col, r0, r1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), cout, (int)k, 1.f, col, (int)k, w, cout, 0.f,
                y + r0 * (size_t)cout, cout);
  }
  return 0;
}

int conv3d_backprop_input(const conv3_geom *g, const float *dy, const float *w, float *dx, scratch_buf *s) {
  const size_t rows = rows3(g), k = width3(g);
  const int cout = g->out_c;
  if (pointwise3(g)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, cout, 1.f, dy, cout, w, cout, 0.f, dx, (int)k);
    return 0;
  }
  const size_t chunk = chunk3(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  memset(dx, 0, (size_t)g->batch * g->in_d * g->in_h * g->in_w * g->in_c * sizeof(float));
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)k, cout, 1.f, dy + r0 * (size_t)cout, cout, w, cout, 0.f,
                col, (int)k);
    col2vol_add(g, col, dx, r0, r1);
  }
  return 0;
}

int conv3d_backprop_filter(const conv3_geom *g, const float *x, const float *dy, float *dw, scratch_buf *s) {
  const size_t rows = rows3(g), k = width3(g);
  const int cout = g->out_c;
  if (pointwise3(g)) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, cout, (int)rows, 1.f, x, (int)k, dy, cout, 0.f, dw, cout);
    return 0;
  }
  const size_t chunk = chunk3(g);
  float *col = scratch_reserve(s, chunk * k);
  if (col == NULL) return -1;
  for (size_t r0 = 0; r0 < rows; r0 += chunk) {
    const size_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
    vol2col(g, x, col, r0, r1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, cout, (int)(r1 - r0), 1.f, col, (int)k, dy + r0 * (size_t)cout, cout,
                r0 == 0 ? 0.f : 1.f, dw, cout);
  }
  return 0;
}
