// Metrics. Add an export line per file.
export {};
