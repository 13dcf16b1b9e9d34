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
 * Bytes collected in pieces, up to `cap`, whose result is exactly as long as what was pushed: the
 * pieces are kept as they come and joined once at the end, so memory never depends on a declared
 * size and peaks at twice the content (pieces + result) rather than the up-to-3× of a doubling
 * buffer. `bytes()` hands back a lone piece that fills its own buffer without copying.
 */
export class GrowableBytes {
  private pieces: Uint8Array[] = [];
  private size = 0;

  /**
   * @param cap - most bytes the buffer will ever hold; `push` past it calls `onOverflow`.
   * @param onOverflow - builds the error thrown when content would exceed `cap`.
   */
  constructor(
    private readonly cap: number,
    private readonly onOverflow: (needed: number) => Error,
  ) {}

  /** Bytes held so far. */
  get length(): number {
    return this.size;
  }

  /**
   * Appends `chunk` (kept by reference: the caller must not change it afterwards); throws
   * `onOverflow(needed)` past `cap`.
   */
  push(chunk: Uint8Array): void {
    const need = this.size + chunk.length;
    if (need > this.cap) throw this.onOverflow(need);
    if (chunk.length === 0) return;
    this.pieces.push(chunk);
    this.size = need;
  }

  /** The content so far as one array (joins the pieces; meant for small heads). */
  view(): Uint8Array {
    return this.bytes();
  }

  /** The content in a buffer of exactly its length. */
  bytes(): Uint8Array {
    if (this.pieces.length === 1) {
      const p = this.pieces[0];
      if (p.byteOffset === 0 && p.byteLength === p.buffer.byteLength) return p;
    }
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.pieces) {
      out.set(p, o);
      o += p.length;
    }
    this.pieces = this.size > 0 ? [out] : [];
    return out;
  }
}
