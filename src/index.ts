/**
 * medvae: typed TensorFlow.js deep learning for medical-image generation and segmentation.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './backend/index.js';
export * from './optim/index.js';
export * from './io/index.js';
export * from './train/index.js';
export * from './models/index.js';
export * from './inferers/index.js';
export * from './volume/index.js';
export * from './viz/index.js';
export * from './layers/index.js';
export * from './losses/index.js';
export * from './metrics/index.js';
export * from './schedules/index.js';
export * from './data/index.js';
export * from './io/torch-export.js';
export * from './models/monai/basic-unet.js';
export * from './export/onnx/index.js';
