export * from './errors.js';
export * from './shape.js';
export * from './random.js';
export * from './module.js';
export * from './init.js';
export * from './gradients.js';
export * from './containers.js';
