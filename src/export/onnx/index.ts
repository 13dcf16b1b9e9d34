// The composite blocks register their ONNX forms on import, so the barrel imports them first.
import './blocks.js';

export { exportOnnx, saveOnnx, type OnnxExportOptions, type OnnxExportable, type OnnxLayout } from './export.js';
export { OnnxExportError } from './errors.js';
export { ONNX_OPSET } from './graph.js';
