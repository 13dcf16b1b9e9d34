export * from './use-backend.js';
export * from './wasm/register.js';
export * from './cpu/register.js';
export * from './backend-report.js';
export { nativeKernelsStatus, setNativeThreads, type NativeKernelsMode, type NativeKernelsStatus } from './native/native-kernels.js';
export * from './finite-guard.js';
