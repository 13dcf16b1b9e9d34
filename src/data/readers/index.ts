// Readers of medical and image formats. Add an export line per file.
export * from './types.js';
export * from './volume.js';
export * from './nifti.js';
export * from './orientation.js';
export * from './dicom.js';
export * from './dicom-series.js';
export * from './window.js';
export * from './png.js';
export * from './jpeg.js';
export * from './image.js';
export * from './idx.js';
export * from './ndarray.js';
