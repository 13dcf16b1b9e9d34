export * from './types.js';
export * from './callbacks.js';
export * from './checkpoint.js';
export * from './train-loop.js';
export * from './ema.js';
