import { FileFormatError, MedvaeError, NumericalError } from '../core/errors.js';

/** What each common file-system error code means for the user, and what to do about it. */
const HINTS: Record<string, string> = {
  ENOSPC: 'the disk is full; free space or choose a path on another disk',
  EDQUOT: 'the disk quota is exhausted; free space or choose a path on another disk',
  EROFS: 'the file system is read-only; choose a writable path',
  EACCES: 'permission denied; choose a path you may write to, or fix its permissions',
  EPERM: 'the operation is not permitted; choose a path you may write to, or fix its permissions',
  EISDIR: 'the path is a directory, but a file is needed there; give a file path (e.g. runs/ckpt.safetensors)',
  ENOTDIR: 'a parent of the path is a file, not a directory; choose another path',
  ENOENT: 'the path or one of its parent directories does not exist',
  EEXIST: 'something already exists at the path',
  EBUSY: 'the path is busy (a mount point or the current directory); choose a subdirectory',
  EMFILE: 'too many open files; close some or raise the limit (ulimit -n)',
  EIO: 'the storage device reported an input/output error; check the disk',
};

/**
 * A file-system operation failed. Carries the path, the operation and the system error code
 * (`ENOSPC`, `EROFS`, `EACCES`, `EISDIR`, …), and its message says what the code means, so a full
 * disk or a read-only directory is reported as such, with the file it concerns.
 */
export class IoError extends MedvaeError {
  static override readonly errorName: string = 'IoError';
  /** The file or directory the operation was on. */
  readonly path: string;
  /** The system error code (e.g. `'ENOSPC'`), or `'UNKNOWN'` when the cause carried none. */
  readonly code: string;
  /** What medvae was doing, e.g. `'write'`, `'rename'`, `'mkdir'`. */
  readonly operation: string;

  constructor(operation: string, path: string, cause: unknown, context?: string) {
    const code = errorCode(cause) ?? 'UNKNOWN';
    const hint = HINTS[code] ?? (cause instanceof Error ? cause.message : String(cause));
    super(`${context ? `${context}: ` : ''}cannot ${operation} '${path}' (${code}): ${hint}.`, { cause });
    this.path = path;
    this.code = code;
    this.operation = operation;
  }
}

/** The system error code of a Node error (`err.code`), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Stored weights do not match the checksum recorded when they were written: the file was corrupted
 * (a flipped bit, a truncated copy) or edited by hand. The data is not used.
 */
export class ChecksumError extends FileFormatError {
  static override readonly errorName: string = 'ChecksumError';
}

/**
 * Tensors about to be saved or checkpointed hold NaN or infinite values. Nothing was written: a
 * non-finite model would only make every later resume or load fail.
 */
export class NonFiniteError extends NumericalError {
  static override readonly errorName: string = 'NonFiniteError';
  /** Names of the tensors that hold non-finite values. */
  readonly tensors: string[];

  constructor(message: string, tensors: string[]) {
    super(message);
    this.tensors = tensors;
  }
}

/** Another live run (this process or another) holds the lock of a checkpoint path. */
export class CheckpointLockedError extends MedvaeError {
  static override readonly errorName: string = 'CheckpointLockedError';
  /** The checkpoint path whose lock is held. */
  readonly path: string;
  /** The process id of the holder. */
  readonly pid: number;

  constructor(message: string, path: string, pid: number) {
    super(message);
    this.path = path;
    this.pid = pid;
  }
}

/**
 * A checkpoint belongs to another run (a different run id or configuration) than the one asked to
 * resume from it. Pass `resume: 'force'` to resume from it anyway.
 */
export class RunMismatchError extends MedvaeError {
  static override readonly errorName: string = 'RunMismatchError';
}
