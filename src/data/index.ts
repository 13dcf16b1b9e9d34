// Datasets, loaders, transforms. Add an export line per file.
export * from './readers/index.js';
export * from './sample.js';
export * from './dataset.js';
export * from './random-split.js';
export * from './collate.js';
export * from './data-loader.js';
export * from './transforms/index.js';
export * from './folder-datasets.js';
export * from './nifti-slices.js';
export * from './mnist.js';
export * from './colin27.js';
