// Metrics. Add an export line per file.
//
// Conventions shared by every metric here (see each function's TSDoc):
// - inputs are channel-last: one-hot binarised masks [B, H, W, C] (or [B, D, H, W, C]), or label
//   maps with { numClasses }; images [B, H, W, C]; tf.Tensor or { data, shape } (read with dataSync);
// - results are plain numbers / number[] / number[][] ([B][C]), computed in float64 on the CPU;
// - MONAI's functional ports (computeDice, computeIoU, confusionMatrix) return the unreduced [B][C]
//   table by default; the others (precision & co., distances, PSNR, SSIM) default to
//   reduction 'mean' like MONAI's metric classes; NaN marks undefined entries and is skipped.
export {};
export * from './types.js';
export * from './reduction.js';
export * from './confusion-matrix.js';
export * from './dice.js';
export * from './iou.js';
export * from './distance-transform.js';
export * from './surface-distance.js';
export * from './roc.js';
export * from './psnr.js';
export * from './ssim.js';
