// The `maxBytes` budget every reader applies to buffers it sizes from file contents, and a growable
// byte buffer that only ever holds what the data has actually produced. Internal (not re-exported
// by the barrel); shared by the NIfTI, PNG, JPEG, IDX and DICOM readers.
import { FileFormatError } from '../../core/errors.js';

/**
 * Default of `ReadOptions.maxBytes`: 2 GiB − 1 byte, the largest `Uint8Array` length every JS
 * engine allows, so the default never refuses a file an engine could hold. Lower it to bound what
 * untrusted files may cost.
 */
export const DEFAULT_MAX_BYTES = 2 ** 31 - 1;

function describe(name: string | undefined): string {
  return name ? `'${name}'` : 'the given bytes';
}

function budgetError(format: string, name: string | undefined, problem: string, hint?: string): FileFormatError {
  return new FileFormatError(`Cannot read ${format} from ${describe(name)}: ${problem}.` + (hint ? ` ${hint}` : ''));
}

/**
 * The effective budget: `maxBytes` when given (it must be a positive number), else
 * {@link DEFAULT_MAX_BYTES}. A non-positive or NaN option is a caller mistake and is refused.
 */
export function resolveMaxBytes(maxBytes: number | undefined, format: string, name: string | undefined): number {
  if (maxBytes === undefined) return DEFAULT_MAX_BYTES;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
    throw budgetError(format, name, `the maxBytes option is ${String(maxBytes)}`, 'Pass a positive number of bytes (or leave it out for the 2 GiB default).');
  }
  return maxBytes;
}

/**
 * Refuses, before anything is allocated, a buffer of `bytes` that a header declares, when it is
 * invalid or above `maxBytes`. `what` names the buffer and the field it came from.
 */
export function checkAlloc(format: string, name: string | undefined, bytes: number, maxBytes: number, what: string): void {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw budgetError(format, name, `${what} is invalid (${bytes} bytes)`, 'The header is corrupt.');
  }
  if (bytes > maxBytes) {
    throw budgetError(format, name, `${what} would need ${bytes} bytes, above the limit of ${maxBytes} (maxBytes)`, 'If the file is genuine, pass a larger `maxBytes`.');
  }
}

/**
 * A byte buffer filled in pieces, which never holds more capacity than the bytes pushed so far
 * warrant (it doubles as data arrives, up to `cap`) and never more than `cap` bytes of content.
 * `bytes()` returns exactly the content, copying only when spare capacity is left, so a result's
 * `.buffer` is its honest size whatever sizes the file declared.
 */
export class GrowableBytes {
  private buf: Uint8Array;
  private size = 0;

  /**
   * @param cap - most bytes the buffer will ever hold; `push` past it calls `onOverflow`.
   * @param onOverflow - builds the error thrown when content would exceed `cap`.
   * @param initial - first capacity (clamped to `cap`); a small guess, never a declared size.
   */
  constructor(
    private readonly cap: number,
    private readonly onOverflow: (needed: number) => Error,
    initial = 64 * 1024,
  ) {
    this.buf = new Uint8Array(Math.max(0, Math.min(cap, initial)));
  }

  /** Bytes held so far. */
  get length(): number {
    return this.size;
  }

  /** Appends `chunk`, growing geometrically; throws `onOverflow(needed)` past `cap`. */
  push(chunk: Uint8Array): void {
    const need = this.size + chunk.length;
    if (need > this.cap) throw this.onOverflow(need);
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.cap, Math.max(need, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.size));
      this.buf = grown;
    }
    this.buf.set(chunk, this.size);
    this.size = need;
  }

  /** The content so far, without copying (valid until the next push). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }

  /** The content in a buffer of exactly its length (copied only when capacity is left over). */
  bytes(): Uint8Array {
    return this.size === this.buf.length ? this.buf : this.buf.slice(0, this.size);
  }
}
