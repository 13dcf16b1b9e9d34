export * from './export/onnx/index.js';
