// Losses: plain functions of tensors. Add an export line per file.
export {};
