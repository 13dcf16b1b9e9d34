// Composable, seeded transforms on Samples.
export * from './transform.js';
export * from './intensity.js';
export * from './spatial.js';
export * from './affine.js';
export * from './noise.js';
export * from './filters.js';
export * from './discrete.js';
export * from './image-normalization.js';
