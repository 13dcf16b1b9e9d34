import { MedvaeError } from '../core/errors.js';
import { assertNodeFs, importNode } from '../core/runtime.js';
import { IoError, errorCode } from './errors.js';

type FsPromises = typeof import('node:fs/promises');
type PathModule = typeof import('node:path');

/**
 * Node's `fs/promises` and `path`, imported lazily so that browser bundles of medvae never reach
 * for them unless a file-system function is actually called.
 */
export async function nodeFs(): Promise<{ fs: FsPromises; path: PathModule }> {
  assertNodeFs('Saving or loading a model by directory');
  try {
    const [fs, path] = await Promise.all([importNode<typeof import('node:fs/promises')>('fs/promises'), importNode<typeof import('node:path')>('path')]);
    return { fs, path };
  } catch (err) {
    throw new MedvaeError(
      'File-system paths are only supported in Node.js. In a browser, pass bytes (Uint8Array) or a tfjs IO URL such as indexeddb://name.',
      { cause: err },
    );
  }
}

/**
 * Runs one file-system operation and turns its failure into an {@link IoError} naming the path,
 * the operation and the cause (ENOSPC, EROFS, …). Errors that are already medvae's pass through.
 * @internal
 */
export async function io<T>(operation: string, path: string, run: () => Promise<T>, context?: string): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof MedvaeError) throw err;
    throw new IoError(operation, path, err, context);
  }
}

/**
 * A unique suffix for temporary names: it starts with the process id so that a later run can tell
 * the leftovers of a crashed process (dead pid) from those of a live one.
 * @internal
 */
export function tempToken(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The process id a {@link tempToken}-suffixed name was made by, or undefined when `name` is not
 * `${base}${marker}<pid>-…`.
 * @internal
 */
export function tempOwner(name: string, base: string, marker: string): number | undefined {
  if (!name.startsWith(base + marker)) return undefined;
  const m = /^(\d+)-/.exec(name.slice(base.length + marker.length));
  return m ? Number(m[1]) : undefined;
}

/**
 * True when a process with this id runs on this machine. EPERM means it exists but belongs to
 * another user, which still counts as alive.
 * @internal
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * Writes `data` to a new file and flushes it to the storage device before returning, so that a
 * later rename publishes complete contents even after a power loss.
 * @internal
 */
export async function writeFileDurable(file: string, data: Uint8Array | string, context?: string): Promise<void> {
  const { fs } = await nodeFs();
  const handle = await io('create', file, () => fs.open(file, 'wx'), context);
  try {
    await io('write', file, () => handle.writeFile(data), context);
    await io('flush (fsync)', file, () => handle.sync(), context);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Flushes a directory's entries (new names, renames) to the storage device. Platforms that cannot
 * open or sync a directory (Windows) are skipped: there, rename is already as durable as it gets.
 * @internal
 */
export async function fsyncDir(dir: string): Promise<void> {
  const { fs } = await nodeFs();
  let handle: Awaited<ReturnType<FsPromises['open']>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EBADF') throw new IoError('flush (fsync)', dir, err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Creates directory `dir` and its parents, with a typed error that names the deepest directory that
 * could not be created (a read-only parent reports EROFS/EACCES, not ENOENT).
 * @internal
 */
export async function makeDir(dir: string, context?: string): Promise<void> {
  const { fs, path } = await nodeFs();
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch {
    // Find the first ancestor that does not exist: creating it is what failed, for the real reason.
    let missing = path.resolve(dir);
    for (;;) {
      const parent = path.dirname(missing);
      if (parent === missing) break;
      const exists = await fs.stat(parent).then(
        () => true,
        () => false,
      );
      if (exists) break;
      missing = parent;
    }
    // Creating it alone reports the real cause (recursive mkdir says ENOENT for a read-only parent).
    await io('create directory', missing, () => fs.mkdir(missing), context);
    await io('create directory', dir, () => fs.mkdir(dir, { recursive: true }), context);
  }
}

/**
 * Writes `data` to `file` atomically: first to a temporary file in the same directory (flushed to
 * disk), then renamed over the target, so a crash mid-write never leaves a truncated file where a
 * good one was. Parent directories are created as needed. Failures are {@link IoError}s naming the
 * file and the cause; the temporary file is removed.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, context?: string): Promise<void> {
  const { fs, path } = await nodeFs();
  await makeDir(path.dirname(file), context);
  await assertNotDirectory(file, context);
  const tmp = `${file}.tmp-${tempToken()}`;
  try {
    await writeFileDurable(tmp, data, context);
    await io('rename into place', file, () => fs.rename(tmp, file), context);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
  await removeStaleTemporaries(file);
}

/**
 * Removes `<file>.tmp-<pid>-…` files whose process no longer runs: what a crash in the middle of
 * {@link writeFileAtomic} leaves behind. Temporaries of live processes (a concurrent writer) stay.
 * @internal
 */
export async function removeStaleTemporaries(file: string): Promise<void> {
  const { fs, path } = await nodeFs();
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    const pid = tempOwner(n, base, '.tmp-');
    if (pid === undefined || isProcessAlive(pid)) continue;
    await fs.rm(path.join(dir, n), { force: true }).catch(() => undefined);
  }
}

/**
 * Throws an EISDIR {@link IoError} when `file` is an existing directory: renaming a file over a
 * directory fails only after all the data was written, with a message that names the temp file.
 * @internal
 */
export async function assertNotDirectory(file: string, context?: string): Promise<void> {
  const { fs } = await nodeFs();
  const st = await fs.stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw new IoError('write file', file, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), context);
}
