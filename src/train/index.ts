export * from './types.js';
export * from './fit-options.js';
export * from './callbacks.js';
export * from './checkpoint.js';
export * from './checkpoint-manager.js';
export * from './train-loop.js';
export * from './fit.js';
export * from './ema.js';
