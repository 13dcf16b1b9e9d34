import { MedvaeError } from '../../core/errors.js';

/**
 * A model could not be written as ONNX: it holds a module the exporter has no ONNX form for, a
 * module in a state ONNX inference cannot express (BatchNorm without running statistics), or the
 * export options do not fit the model.
 */
export class OnnxExportError extends MedvaeError {
  static override readonly errorName: string = 'OnnxExportError';
}
