// Readers of medical and image formats. Add an export line per file.
export {};
