// Datasets, loaders, transforms. Add an export line per file.
export * from './readers/index.js';
