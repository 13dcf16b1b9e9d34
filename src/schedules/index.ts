// Diffusion noise schedules and samplers' math. Add an export line per file.
export {};
export * from './beta-schedules.js';
export * from './zero-terminal-snr.js';
export * from './schedule-terms.js';
export * from './timestep-spacing.js';
export * from './scheduler-base.js';
export * from './ddpm-scheduler.js';
export * from './ddim-scheduler.js';
export * from './min-snr.js';
export * from './diffusers-config.js';
