/**
 * Base class of every error medvae throws on purpose. Its message always says what was expected,
 * what came instead, and what to do about it, so it can be shown to a user as it is.
 *
 * Catch `MedvaeError` to handle all of them; the subclasses narrow the kind of problem.
 */
export class MedvaeError extends Error {
  /**
   * The class's name as a string. Minifiers rename classes (a bundled app would print
   * `Pt: ...`), so each medvae error class states its name here and `name` is taken from it; a
   * subclass that does not declare its own `errorName` gets its constructor's name.
   */
  static readonly errorName: string = 'MedvaeError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = errorNameOf(new.target);
  }
}

/** The declared {@link MedvaeError.errorName} of exactly this class, else its constructor name. */
function errorNameOf(cls: { name: string }): string {
  return Object.prototype.hasOwnProperty.call(cls, 'errorName') ? (cls as typeof MedvaeError).errorName : cls.name;
}

/** A tensor had the wrong rank, a wrong dimension, or two tensors that must agree did not. */
export class ShapeError extends MedvaeError {
  static override readonly errorName: string = 'ShapeError';
}

/** A tensor had an unsupported dtype (for example int32 where float32 is required). */
export class DTypeError extends MedvaeError {
  static override readonly errorName: string = 'DTypeError';
}

/** An option or argument had a value outside what is allowed. */
export class ValueError extends MedvaeError {
  static override readonly errorName: string = 'ValueError';
}

/**
 * A backend could not be used: its package is not installed, it failed to initialise, or it lacks
 * a kernel the model needs.
 */
export class BackendError extends MedvaeError {
  static override readonly errorName: string = 'BackendError';
}

/** A state dict did not fit a module: missing or unexpected keys, or shapes that differ. */
export class StateDictError extends MedvaeError {
  static override readonly errorName: string = 'StateDictError';
}

/** A file was truncated, corrupt, of the wrong format, or uses a feature medvae does not read. */
export class FileFormatError extends MedvaeError {
  static override readonly errorName: string = 'FileFormatError';
}

/** A loss or value became NaN or infinite. */
export class NumericalError extends MedvaeError {
  static override readonly errorName: string = 'NumericalError';
}
