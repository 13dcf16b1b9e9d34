/**
 * Base class of every error medvae throws on purpose. Its message always says what was expected,
 * what came instead, and what to do about it, so it can be shown to a user as it is.
 *
 * Catch `MedvaeError` to handle all of them; the subclasses narrow the kind of problem.
 */
export class MedvaeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tensor had the wrong rank, a wrong dimension, or two tensors that must agree did not. */
export class ShapeError extends MedvaeError {}

/** A tensor had an unsupported dtype (for example int32 where float32 is required). */
export class DTypeError extends MedvaeError {}

/** An option or argument had a value outside what is allowed. */
export class ValueError extends MedvaeError {}

/**
 * A backend could not be used: its package is not installed, it failed to initialise, or it lacks
 * a kernel the model needs.
 */
export class BackendError extends MedvaeError {}

/** A state dict did not fit a module: missing or unexpected keys, or shapes that differ. */
export class StateDictError extends MedvaeError {}

/** A file was truncated, corrupt, of the wrong format, or uses a feature medvae does not read. */
export class FileFormatError extends MedvaeError {}

/** A loss or value became NaN or infinite. */
export class NumericalError extends MedvaeError {}
