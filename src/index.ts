/**
 * medvae: typed TensorFlow.js deep learning for medical-image generation and segmentation.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './backend/index.js';
