export * from './unet.js';
export * from './sliding-window.js';
export * from './unet-segmenter.js';
export * from './vae.js';
