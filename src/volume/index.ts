// Whole volumes in, label volumes out: slice-wise 2-D or sliding-window 3-D segmentation on a
// NIfTI/DICOM grid, keeping the affine.
export * from './intensity.js';
export * from './segment-volume.js';
