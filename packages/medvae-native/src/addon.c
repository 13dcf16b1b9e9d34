/*
 * N-API bindings. Every kernel works in place on Float32Arrays handed in from JavaScript (in
 * medvae: views of the tfjs wasm heap), so no data is copied in or out. All arguments are checked
 * here, before any memory is touched: a wrong shape or a detached view throws a JavaScript error
 * instead of reading or writing out of bounds.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define ERR_CODE "ERR_MEDVAE_NATIVE"

/* Per-environment state (main thread and every worker thread get their own). */
typedef struct {
  scratch_buf scratch;
} instance_state;

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  instance_state *st = (instance_state *)data;
  free(st->scratch.data);
  free(st);
}

/* Returns 1 when a JavaScript exception is pending (the caller returns NULL at once). */
static int failed(napi_env env, napi_status status) {
  if (status == napi_ok) return 0;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, ERR_CODE, info != NULL && info->error_message != NULL ? info->error_message : "N-API call failed");
  }
  return 1;
}

static napi_value throw_type(napi_env env, const char *fmt, const char *fn, const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, fn, what);
  napi_throw_type_error(env, ERR_CODE, msg);
  return NULL;
}

/* Reads a Float32Array; `what` names it in errors. Returns 0 on failure (exception thrown). */
static int get_f32(napi_env env, napi_value v, const char *fn, const char *what, float **data, size_t *length) {
  bool is_ta = false;
  if (failed(env, napi_is_typedarray(env, v, &is_ta))) return 0;
  if (!is_ta) {
    throw_type(env, "medvae-native %s: %s must be a Float32Array.", fn, what);
    return 0;
  }
  napi_typedarray_type type;
  void *ptr = NULL;
  if (failed(env, napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL))) return 0;
  if (type != napi_float32_array) {
    throw_type(env, "medvae-native %s: %s must be a Float32Array (float32 data only).", fn, what);
    return 0;
  }
  *data = (float *)ptr;
  return 1;
}

static int check_length(napi_env env, const char *fn, const char *what, size_t got, size_t want) {
  if (got == want) return 1;
  char msg[512];
  snprintf(msg, sizeof msg,
           "medvae-native %s: %s has %zu elements where the geometry needs %zu (a view taken before the wasm heap grew is "
           "detached and has 0).",
           fn, what, got, want);
  napi_throw_range_error(env, ERR_CODE, msg);
  return 0;
}

/* Reads obj[name] as an integer in [min, INT_MAX]. */
static int get_int(napi_env env, napi_value obj, const char *fn, const char *name, int min, int *out) {
  napi_value v;
  napi_valuetype t;
  if (failed(env, napi_get_named_property(env, obj, name, &v))) return 0;
  if (failed(env, napi_typeof(env, v, &t))) return 0;
  double d = 0;
  if (t == napi_number && failed(env, napi_get_value_double(env, v, &d))) return 0;
  if (t != napi_number || d != (double)(int64_t)d || d < (double)min || d > (double)INT_MAX) {
    char msg[512];
    snprintf(msg, sizeof msg, "medvae-native %s: geometry.%s must be an integer >= %d (got %s).", fn, name, min,
             t == napi_number ? "an out-of-range or fractional number" : t == napi_undefined ? "undefined" : "a non-number");
    napi_throw_range_error(env, ERR_CODE, msg);
    return 0;
  }
  *out = (int)d;
  return 1;
}

static int get_bool(napi_env env, napi_value obj, const char *name, int *out) {
  napi_value v;
  bool b = false;
  napi_valuetype t;
  if (failed(env, napi_get_named_property(env, obj, name, &v))) return 0;
  if (failed(env, napi_typeof(env, v, &t))) return 0;
  if (t == napi_boolean && failed(env, napi_get_value_bool(env, v, &b))) return 0;
  *out = b ? 1 : 0;
  return 1;
}

static int is_object(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_object;
}

/* rows · cols must fit the 32-bit integers OpenBLAS takes and the size_t the kernels index with. */
static int check_product(napi_env env, const char *fn, const char *what, double value) {
  if (value <= (double)INT_MAX) return 1;
  char msg[256];
  snprintf(msg, sizeof msg, "medvae-native %s: %s (%.0f) exceeds 2^31-1, the largest size OpenBLAS accepts.", fn, what, value);
  napi_throw_range_error(env, ERR_CODE, msg);
  return 0;
}

static int read_geometry(napi_env env, napi_value obj, const char *fn, conv_geom *g) {
  if (!is_object(env, obj)) {
    throw_type(env, "medvae-native %s: %s must be an object.", fn, "geometry");
    return 0;
  }
  return get_int(env, obj, fn, "batchSize", 1, &g->batch) && get_int(env, obj, fn, "inHeight", 1, &g->in_h) &&
         get_int(env, obj, fn, "inWidth", 1, &g->in_w) && get_int(env, obj, fn, "inChannels", 1, &g->in_c) &&
         get_int(env, obj, fn, "outHeight", 1, &g->out_h) && get_int(env, obj, fn, "outWidth", 1, &g->out_w) &&
         get_int(env, obj, fn, "outChannels", 1, &g->out_c) && get_int(env, obj, fn, "filterHeight", 1, &g->k_h) &&
         get_int(env, obj, fn, "filterWidth", 1, &g->k_w) && get_int(env, obj, fn, "strideHeight", 1, &g->stride_h) &&
         get_int(env, obj, fn, "strideWidth", 1, &g->stride_w) && get_int(env, obj, fn, "dilationHeight", 1, &g->dil_h) &&
         get_int(env, obj, fn, "dilationWidth", 1, &g->dil_w) && get_int(env, obj, fn, "padTop", 0, &g->pad_top) &&
         get_int(env, obj, fn, "padLeft", 0, &g->pad_left) &&
         check_product(env, fn, "batchSize·outHeight·outWidth", (double)g->batch * g->out_h * g->out_w) &&
         check_product(env, fn, "filterHeight·filterWidth·inChannels", (double)g->k_h * g->k_w * g->in_c) &&
         check_product(env, fn, "the input size", (double)g->batch * g->in_h * g->in_w * g->in_c) &&
         check_product(env, fn, "the output size", (double)g->batch * g->out_h * g->out_w * g->out_c) &&
         check_product(env, fn, "the filter size", (double)g->k_h * g->k_w * g->in_c * g->out_c);
}

/* Reads the optional epilogue {bias?, activation?, leakyreluAlpha?}; `cols` is the bias length. */
static int read_epilogue(napi_env env, napi_value obj, const char *fn, size_t cols, epilogue *ep) {
  ep->bias = NULL;
  ep->act = ACT_LINEAR;
  ep->alpha = 0.f;
  napi_valuetype t;
  if (failed(env, napi_typeof(env, obj, &t))) return 0;
  if (t == napi_undefined || t == napi_null) return 1;
  if (t != napi_object) {
    throw_type(env, "medvae-native %s: %s must be an object or undefined.", fn, "epilogue");
    return 0;
  }
  napi_value v;
  if (failed(env, napi_get_named_property(env, obj, "bias", &v)) || failed(env, napi_typeof(env, v, &t))) return 0;
  if (t != napi_undefined && t != napi_null) {
    float *bias;
    size_t len;
    if (!get_f32(env, v, fn, "epilogue.bias", &bias, &len) || !check_length(env, fn, "epilogue.bias", len, cols)) return 0;
    ep->bias = bias;
  }
  if (failed(env, napi_get_named_property(env, obj, "activation", &v)) || failed(env, napi_typeof(env, v, &t))) return 0;
  if (t == napi_string) {
    char name[32];
    size_t n = 0;
    if (failed(env, napi_get_value_string_utf8(env, v, name, sizeof name, &n))) return 0;
    if (strcmp(name, "linear") == 0) ep->act = ACT_LINEAR;
    else if (strcmp(name, "relu") == 0) ep->act = ACT_RELU;
    else if (strcmp(name, "relu6") == 0) ep->act = ACT_RELU6;
    else if (strcmp(name, "leakyrelu") == 0) ep->act = ACT_LEAKYRELU;
    else if (strcmp(name, "elu") == 0) ep->act = ACT_ELU;
    else if (strcmp(name, "sigmoid") == 0) ep->act = ACT_SIGMOID;
    else {
      throw_type(env, "medvae-native %s: epilogue.activation '%s' is not one of linear, relu, relu6, leakyrelu, elu, sigmoid.", fn, name);
      return 0;
    }
  } else if (t != napi_undefined && t != napi_null) {
    throw_type(env, "medvae-native %s: %s must be a string.", fn, "epilogue.activation");
    return 0;
  }
  if (failed(env, napi_get_named_property(env, obj, "leakyreluAlpha", &v)) || failed(env, napi_typeof(env, v, &t))) return 0;
  if (t == napi_number) {
    double a;
    if (failed(env, napi_get_value_double(env, v, &a))) return 0;
    ep->alpha = (float)a;
  }
  return 1;
}

static instance_state *state_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return (instance_state *)data;
}

static int get_args(napi_env env, napi_callback_info info, size_t want_min, size_t max, napi_value *argv, const char *fn) {
  size_t argc = max;
  if (failed(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return 0;
  if (argc < want_min) {
    char msg[256];
    snprintf(msg, sizeof msg, "medvae-native %s: expected at least %zu arguments, got %zu.", fn, want_min, argc);
    napi_throw_type_error(env, ERR_CODE, msg);
    return 0;
  }
  napi_value undef;
  napi_get_undefined(env, &undef);
  for (size_t i = argc; i < max; i++) argv[i] = undef;
  return 1;
}

static napi_value out_of_memory(napi_env env, const char *fn) {
  char msg[256];
  snprintf(msg, sizeof msg, "medvae-native %s: could not allocate the im2col scratch buffer.", fn);
  napi_throw_error(env, ERR_CODE, msg);
  return NULL;
}

static size_t in_size(const conv_geom *g) { return (size_t)g->batch * g->in_h * g->in_w * g->in_c; }
static size_t out_size(const conv_geom *g) { return (size_t)g->batch * g->out_h * g->out_w * g->out_c; }
static size_t filter_size(const conv_geom *g) { return (size_t)g->k_h * g->k_w * g->in_c * g->out_c; }

/* conv2d(x, filter, y, geometry, epilogue?) */
static napi_value js_conv2d(napi_env env, napi_callback_info info) {
  const char *fn = "conv2d";
  napi_value argv[5];
  conv_geom g;
  epilogue ep;
  float *x, *w, *y;
  size_t nx, nw, ny;
  if (!get_args(env, info, 4, 5, argv, fn) || !read_geometry(env, argv[3], fn, &g)) return NULL;
  if (!get_f32(env, argv[0], fn, "x", &x, &nx) || !get_f32(env, argv[1], fn, "filter", &w, &nw) ||
      !get_f32(env, argv[2], fn, "y (output)", &y, &ny))
    return NULL;
  if (!check_length(env, fn, "x", nx, in_size(&g)) || !check_length(env, fn, "filter", nw, filter_size(&g)) ||
      !check_length(env, fn, "y (output)", ny, out_size(&g)) || !read_epilogue(env, argv[4], fn, (size_t)g.out_c, &ep))
    return NULL;
  if (conv2d_forward(&g, x, w, y, &ep, &state_of(env)->scratch) != 0) return out_of_memory(env, fn);
  return NULL;
}

/* conv2dBackpropInput(dy, filter, dx, geometry) */
static napi_value js_conv2d_backprop_input(napi_env env, napi_callback_info info) {
  const char *fn = "conv2dBackpropInput";
  napi_value argv[4];
  conv_geom g;
  float *dy, *w, *dx;
  size_t ndy, nw, ndx;
  if (!get_args(env, info, 4, 4, argv, fn) || !read_geometry(env, argv[3], fn, &g)) return NULL;
  if (!get_f32(env, argv[0], fn, "dy", &dy, &ndy) || !get_f32(env, argv[1], fn, "filter", &w, &nw) ||
      !get_f32(env, argv[2], fn, "dx (output)", &dx, &ndx))
    return NULL;
  if (!check_length(env, fn, "dy", ndy, out_size(&g)) || !check_length(env, fn, "filter", nw, filter_size(&g)) ||
      !check_length(env, fn, "dx (output)", ndx, in_size(&g)))
    return NULL;
  if (conv2d_backprop_input(&g, dy, w, dx, &state_of(env)->scratch) != 0) return out_of_memory(env, fn);
  return NULL;
}

/* conv2dBackpropFilter(x, dy, dw, geometry) */
static napi_value js_conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  const char *fn = "conv2dBackpropFilter";
  napi_value argv[4];
  conv_geom g;
  float *x, *dy, *dw;
  size_t nx, ndy, ndw;
  if (!get_args(env, info, 4, 4, argv, fn) || !read_geometry(env, argv[3], fn, &g)) return NULL;
  if (!get_f32(env, argv[0], fn, "x", &x, &nx) || !get_f32(env, argv[1], fn, "dy", &dy, &ndy) ||
      !get_f32(env, argv[2], fn, "dw (output)", &dw, &ndw))
    return NULL;
  if (!check_length(env, fn, "x", nx, in_size(&g)) || !check_length(env, fn, "dy", ndy, out_size(&g)) ||
      !check_length(env, fn, "dw (output)", ndw, filter_size(&g)))
    return NULL;
  if (conv2d_backprop_filter(&g, x, dy, dw, &state_of(env)->scratch) != 0) return out_of_memory(env, fn);
  return NULL;
}

static int read_geometry3(napi_env env, napi_value obj, const char *fn, conv3_geom *g) {
  if (!is_object(env, obj)) {
    throw_type(env, "medvae-native %s: %s must be an object.", fn, "geometry");
    return 0;
  }
  return get_int(env, obj, fn, "batchSize", 1, &g->batch) && get_int(env, obj, fn, "inDepth", 1, &g->in_d) &&
         get_int(env, obj, fn, "inHeight", 1, &g->in_h) && get_int(env, obj, fn, "inWidth", 1, &g->in_w) &&
         get_int(env, obj, fn, "inChannels", 1, &g->in_c) && get_int(env, obj, fn, "outDepth", 1, &g->out_d) &&
         get_int(env, obj, fn, "outHeight", 1, &g->out_h) && get_int(env, obj, fn, "outWidth", 1, &g->out_w) &&
         get_int(env, obj, fn, "outChannels", 1, &g->out_c) && get_int(env, obj, fn, "filterDepth", 1, &g->k_d) &&
         get_int(env, obj, fn, "filterHeight", 1, &g->k_h) && get_int(env, obj, fn, "filterWidth", 1, &g->k_w) &&
         get_int(env, obj, fn, "strideDepth", 1, &g->stride_d) && get_int(env, obj, fn, "strideHeight", 1, &g->stride_h) &&
         get_int(env, obj, fn, "strideWidth", 1, &g->stride_w) && get_int(env, obj, fn, "dilationDepth", 1, &g->dil_d) &&
         get_int(env, obj, fn, "dilationHeight", 1, &g->dil_h) && get_int(env, obj, fn, "dilationWidth", 1, &g->dil_w) &&
         get_int(env, obj, fn, "padFront", 0, &g->pad_front) && get_int(env, obj, fn, "padTop", 0, &g->pad_top) &&
         get_int(env, obj, fn, "padLeft", 0, &g->pad_left) &&
         check_product(env, fn, "batchSize·outDepth·outHeight·outWidth", (double)g->batch * g->out_d * g->out_h * g->out_w) &&
         check_product(env, fn, "filterDepth·filterHeight·filterWidth·inChannels", (double)g->k_d * g->k_h * g->k_w * g->in_c) &&
         check_product(env, fn, "the input size", (double)g->batch * g->in_d * g->in_h * g->in_w * g->in_c) &&
         check_product(env, fn, "the output size", (double)g->batch * g->out_d * g->out_h * g->out_w * g->out_c) &&
         check_product(env, fn, "the filter size", (double)g->k_d * g->k_h * g->k_w * g->in_c * g->out_c);
}

static size_t in_size3(const conv3_geom *g) { return (size_t)g->batch * g->in_d * g->in_h * g->in_w * g->in_c; }
static size_t out_size3(const conv3_geom *g) { return (size_t)g->batch * g->out_d * g->out_h * g->out_w * g->out_c; }
static size_t filter_size3(const conv3_geom *g) { return (size_t)g->k_d * g->k_h * g->k_w * g->in_c * g->out_c; }

/* The three 3-D functions share one shape: (a, b, out, geometry) with fixed roles per function. */
typedef int (*conv3_fn)(const conv3_geom *, const float *, const float *, float *, scratch_buf *);
typedef enum { ROLE_IN, ROLE_OUT, ROLE_FILTER } conv3_role;

static size_t role_size(const conv3_geom *g, conv3_role r) {
  return r == ROLE_IN ? in_size3(g) : r == ROLE_OUT ? out_size3(g) : filter_size3(g);
}

static napi_value conv3_call(napi_env env, napi_callback_info info, const char *fn, conv3_fn run, const char *names[3],
                             const conv3_role roles[3]) {
  napi_value argv[4];
  conv3_geom g;
  float *p[3];
  size_t n[3];
  if (!get_args(env, info, 4, 4, argv, fn) || !read_geometry3(env, argv[3], fn, &g)) return NULL;
  for (int i = 0; i < 3; i++)
    if (!get_f32(env, argv[i], fn, names[i], &p[i], &n[i])) return NULL;
  for (int i = 0; i < 3; i++)
    if (!check_length(env, fn, names[i], n[i], role_size(&g, roles[i]))) return NULL;
  if (run(&g, p[0], p[1], p[2], &state_of(env)->scratch) != 0) return out_of_memory(env, fn);
  return NULL;
}

/* conv3d(x, filter, y, geometry) */
static napi_value js_conv3d(napi_env env, napi_callback_info info) {
  const char *names[3] = {"x", "filter", "y (output)"};
  const conv3_role roles[3] = {ROLE_IN, ROLE_FILTER, ROLE_OUT};
  return conv3_call(env, info, "conv3d", conv3d_forward, names, roles);
}

/* conv3dBackpropInput(dy, filter, dx, geometry) */
static napi_value js_conv3d_backprop_input(napi_env env, napi_callback_info info) {
  const char *names[3] = {"dy", "filter", "dx (output)"};
  const conv3_role roles[3] = {ROLE_OUT, ROLE_FILTER, ROLE_IN};
  return conv3_call(env, info, "conv3dBackpropInput", conv3d_backprop_input, names, roles);
}

/* conv3dBackpropFilter(x, dy, dw, geometry) */
static napi_value js_conv3d_backprop_filter(napi_env env, napi_callback_info info) {
  const char *names[3] = {"x", "dy", "dw (output)"};
  const conv3_role roles[3] = {ROLE_IN, ROLE_OUT, ROLE_FILTER};
  return conv3_call(env, info, "conv3dBackpropFilter", conv3d_backprop_filter, names, roles);
}

/* matMul(a, b, c, geometry {batchA, batchB, m, n, k, transposeA, transposeB}, epilogue?) */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  const char *fn = "matMul";
  napi_value argv[5];
  int batch_a, batch_b, m, n, k, ta = 0, tb = 0;
  float *a, *b, *c;
  size_t na, nb, nc;
  epilogue ep;
  if (!get_args(env, info, 4, 5, argv, fn)) return NULL;
  if (!is_object(env, argv[3])) return throw_type(env, "medvae-native %s: %s must be an object.", fn, "geometry");
  if (!get_int(env, argv[3], fn, "batchA", 1, &batch_a) || !get_int(env, argv[3], fn, "batchB", 1, &batch_b) ||
      !get_int(env, argv[3], fn, "m", 1, &m) || !get_int(env, argv[3], fn, "n", 1, &n) || !get_int(env, argv[3], fn, "k", 1, &k) ||
      !get_bool(env, argv[3], "transposeA", &ta) || !get_bool(env, argv[3], "transposeB", &tb))
    return NULL;
  if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
    char msg[256];
    snprintf(msg, sizeof msg, "medvae-native matMul: batchA (%d) and batchB (%d) must be equal, or one of them 1.", batch_a, batch_b);
    napi_throw_range_error(env, ERR_CODE, msg);
    return NULL;
  }
  const int batch = batch_a > batch_b ? batch_a : batch_b;
  if (!check_product(env, fn, "batchA·m·k", (double)batch_a * m * k) || !check_product(env, fn, "batchB·k·n", (double)batch_b * k * n) ||
      !check_product(env, fn, "batch·m·n", (double)batch * m * n))
    return NULL;
  if (!get_f32(env, argv[0], fn, "a", &a, &na) || !get_f32(env, argv[1], fn, "b", &b, &nb) || !get_f32(env, argv[2], fn, "c (output)", &c, &nc))
    return NULL;
  if (!check_length(env, fn, "a", na, (size_t)batch_a * m * k) || !check_length(env, fn, "b", nb, (size_t)batch_b * k * n) ||
      !check_length(env, fn, "c (output)", nc, (size_t)batch * m * n) || !read_epilogue(env, argv[4], fn, (size_t)n, &ep))
    return NULL;
  batch_matmul(a, b, c, batch_a, batch_b, m, n, k, ta, tb, &ep);
  return NULL;
}

static napi_value js_set_num_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  double d = 0;
  napi_valuetype t;
  if (!get_args(env, info, 1, 1, argv, "setNumThreads")) return NULL;
  if (failed(env, napi_typeof(env, argv[0], &t))) return NULL;
  if (t == napi_number && failed(env, napi_get_value_double(env, argv[0], &d))) return NULL;
  if (t != napi_number || d != (double)(int64_t)d || d < 1 || d > 1024) {
    napi_throw_range_error(env, ERR_CODE, "medvae-native setNumThreads: the thread count must be an integer from 1 to 1024.");
    return NULL;
  }
  openblas_set_num_threads((int)d);
  return NULL;
}

static napi_value js_get_num_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "openblasConfig", v);
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "openblasCore", v);
  napi_create_int32(env, openblas_get_num_threads(), &v);
  napi_set_named_property(env, out, "threads", v);
  napi_create_double(env, (double)state_of(env)->scratch.capacity * sizeof(float), &v);
  napi_set_named_property(env, out, "scratchBytes", v);
#ifdef MEDVAE_NATIVE_STATIC_OPENBLAS
  napi_get_boolean(env, true, &v);
#else
  napi_get_boolean(env, false, &v);
#endif
  napi_set_named_property(env, out, "staticOpenblas", v);
  return out;
}

NAPI_MODULE_INIT() {
  instance_state *st = (instance_state *)calloc(1, sizeof(instance_state));
  if (st == NULL || napi_set_instance_data(env, st, finalize_state, NULL) != napi_ok) {
    free(st);
    napi_throw_error(env, ERR_CODE, "medvae-native: could not allocate its per-thread state.");
    return NULL;
  }
  const napi_property_descriptor props[] = {
      {"conv2d", NULL, js_conv2d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, js_conv2d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, js_conv2d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv3d", NULL, js_conv3d, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv3dBackpropInput", NULL, js_conv3d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv3dBackpropFilter", NULL, js_conv3d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"matMul", NULL, js_matmul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, js_set_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getNumThreads", NULL, js_get_num_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
