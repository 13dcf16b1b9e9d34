// Inference helpers for networks trained on patches: MONAI's sliding-window inference and its
// blending weights, for NHWC images and NDHWC volumes.
export * from './importance-map.js';
export * from './pad.js';
export * from './sliding-window.js';
