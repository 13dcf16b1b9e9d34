/**
 * medvae-native: float32 NHWC convolutions and matrix products through OpenBLAS, working in place
 * on Float32Arrays (in medvae, views of the tfjs wasm heap). Every function checks its arguments
 * and throws a TypeError / RangeError (code `ERR_MEDVAE_NATIVE`) rather than touching memory out
 * of bounds. When the compiled addon could not be loaded, only `addonPath` and `loadError` exist.
 */

/** Geometry of a 2-D convolution: NHWC input, filter in tfjs layout `[filterHeight, filterWidth, inChannels, outChannels]`. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  /** Rows of zeros above the input (non-negative); the bottom padding follows from outHeight. */
  padTop: number;
  /** Columns of zeros left of the input (non-negative); the right padding follows from outWidth. */
  padLeft: number;
}

/** Geometry of a 3-D convolution: NDHWC input, filter in tfjs layout `[filterDepth, filterHeight, filterWidth, inChannels, outChannels]`. */
export interface Conv3dGeometry {
  batchSize: number;
  inDepth: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outDepth: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterDepth: number;
  filterHeight: number;
  filterWidth: number;
  strideDepth: number;
  strideHeight: number;
  strideWidth: number;
  dilationDepth: number;
  dilationHeight: number;
  dilationWidth: number;
  /** Planes of zeros before the input (non-negative); the back padding follows from outDepth. */
  padFront: number;
  /** Rows of zeros above the input (non-negative); the bottom padding follows from outHeight. */
  padTop: number;
  /** Columns of zeros left of the input (non-negative); the right padding follows from outWidth. */
  padLeft: number;
}

/** Shapes of a batched product `C[i] = op(A[i]) · op(B[i])`, `op(A)` being `m×k` and `op(B)` `k×n`. */
export interface MatMulGeometry {
  /** Matrices in `a` (1 broadcasts the single matrix over the batch). */
  batchA: number;
  /** Matrices in `b` (1 broadcasts). */
  batchB: number;
  m: number;
  n: number;
  k: number;
  /** `a` holds `k×m` matrices, used transposed. */
  transposeA?: boolean;
  /** `b` holds `n×k` matrices, used transposed. */
  transposeB?: boolean;
}

/** Activations applied after the product (tfjs fused-kernel names). */
export type Activation = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid';

/** Work done on the output after the product: `activation(y + bias)`, bias over the last axis. */
export interface Epilogue {
  bias?: Float32Array;
  activation?: Activation;
  /** Slope of `leakyrelu` for negative inputs. */
  leakyreluAlpha?: number;
}

/** What the addon was built with. */
export interface NativeInfo {
  /** `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64`. */
  openblasConfig: string;
  /** The CPU kernel set OpenBLAS chose at run time. */
  openblasCore: string;
  /** OpenBLAS threads now. */
  threads: number;
  /** im2col scratch memory held by this thread. */
  scratchBytes: number;
  /** True when OpenBLAS is linked into the addon (no run-time dependency on libopenblas). */
  staticOpenblas: boolean;
}

/** Absolute path of the compiled addon (whether or not it loaded). */
export const addonPath: string;
/** Why the addon could not be loaded, or undefined when it loaded. */
export const loadError: string | undefined;

/** `y = epilogue(conv2d(x, filter))`; `y` is overwritten. */
export function conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: ConvGeometry, epilogue?: Epilogue): void;
/** Input gradient of {@link conv2d} (also a transposed convolution); `dx` is overwritten. */
export function conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
/** Filter gradient of {@link conv2d}; `dw` is overwritten. */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: ConvGeometry): void;
/** 3-D convolution `y = conv3d(x, filter)` (vol2col + GEMM). */
export function conv3d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: Conv3dGeometry): void;
/** Input gradient of a 3-D convolution: `dx` from `dy` and the filter. */
export function conv3dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Conv3dGeometry): void;
/** Filter gradient of a 3-D convolution: `dw` from `x` and `dy`. */
export function conv3dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Conv3dGeometry): void;
/** `c = epilogue(op(a) · op(b))` over a batch; `c` is overwritten. */
export function matMul(a: Float32Array, b: Float32Array, c: Float32Array, geometry: MatMulGeometry, epilogue?: Epilogue): void;
/** Sets the number of OpenBLAS threads (process-wide). */
export function setNumThreads(n: number): void;
/** The number of OpenBLAS threads. */
export function getNumThreads(): number;
/** Build and run-time facts about OpenBLAS. */
export function info(): NativeInfo;
