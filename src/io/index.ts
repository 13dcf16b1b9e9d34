export { writeFileAtomic } from './node-fs.js';
export * from './errors.js';
export { preflightCheckpoint, preflightSaveTarget } from './preflight.js';
export * from './safetensors.js';
export * from './torch-state-dict.js';
export * from './saved-model.js';
export * from './savable-model.js';
export { ConfigError, configField, readConfig, type ConfigContext, type ConfigField, type ConfigSchema } from './config-schema.js';
