// The part of the `medvae-native` addon's API medvae uses (its own index.d.ts describes the same
// functions). Declared here rather than imported so that medvae's published types do not depend on
// an optional package. Not exported from the package.

/** Geometry of a 2-D convolution (NHWC input, `[kh, kw, in, out]` filter). @internal */
export interface NativeConvGeometry {
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
  padTop: number;
  padLeft: number;
}

/** Geometry of a 3-D convolution (NDHWC input, `[kd, kh, kw, in, out]` filter). @internal */
export interface NativeConv3dGeometry {
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
  padFront: number;
  padTop: number;
  padLeft: number;
}

/** Shapes of a batched product `C[i] = op(A[i]) · op(B[i])` (a batch of 1 broadcasts). @internal */
export interface NativeMatMulGeometry {
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Activations the addon applies after a product (tfjs's fused-kernel names). @internal */
export type NativeActivation = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid';

/** `activation(y + bias)` after a product; the bias runs over the last axis. @internal */
export interface NativeEpilogue {
  bias?: Float32Array;
  activation?: NativeActivation;
  leakyreluAlpha?: number;
}

/** What the addon reports about its OpenBLAS. @internal */
export interface NativeAddonInfo {
  openblasConfig: string;
  openblasCore: string;
  threads: number;
  scratchBytes: number;
  staticOpenblas: boolean;
}

/** The loaded addon: every function works in place on the arrays it is given. @internal */
export interface NativeAddon {
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: NativeConvGeometry, epilogue?: NativeEpilogue): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: NativeConvGeometry): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: NativeConvGeometry): void;
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, geometry: NativeMatMulGeometry, epilogue?: NativeEpilogue): void;
  /** 3-D convolution (vol2col + GEMM); absent in addon builds older than the 3-D kernels. */
  conv3d?(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: NativeConv3dGeometry): void;
  /** Input gradient of {@link NativeAddon.conv3d}. */
  conv3dBackpropInput?(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: NativeConv3dGeometry): void;
  /** Filter gradient of {@link NativeAddon.conv3d}. */
  conv3dBackpropFilter?(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: NativeConv3dGeometry): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  info(): NativeAddonInfo;
}

/** The `medvae-native` module: the addon's functions, or only `loadError` when its build is missing. @internal */
export interface NativeModule extends Partial<NativeAddon> {
  addonPath?: string;
  loadError?: string;
}

/** Activations {@link NativeAddon} applies itself; others (prelu) fall back to the wasm kernel. @internal */
export const NATIVE_ACTIVATIONS: ReadonlySet<string> = new Set<NativeActivation>(['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid']);

/** Names the functions a module must have to count as the addon. @internal */
export const NATIVE_FUNCTIONS: readonly (keyof NativeAddon)[] = ['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'matMul', 'setNumThreads', 'getNumThreads', 'info'];
