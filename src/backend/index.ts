export * from './use-backend.js';
export * from './wasm/register.js';
export * from './cpu/register.js';
export * from './backend-report.js';
