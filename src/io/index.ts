export { writeFileAtomic } from './node-fs.js';
export * from './errors.js';
export { preflightCheckpoint, preflightSaveTarget } from './preflight.js';
export * from './safetensors.js';
export * from './torch-state-dict.js';
export * from './saved-model.js';
