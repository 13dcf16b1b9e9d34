// Layers (NHWC). Each file defines one layer; add an export line per file.
export {};
