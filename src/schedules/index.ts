// Diffusion noise schedules and samplers' math. Add an export line per file.
export {};
