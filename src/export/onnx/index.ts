export { exportOnnx, saveOnnx, type OnnxExportOptions, type OnnxExportable, type OnnxLayout } from './export.js';
export { OnnxExportError } from './errors.js';
export { ONNX_OPSET } from './graph.js';
