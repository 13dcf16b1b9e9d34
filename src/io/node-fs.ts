import { MedvaeError } from '../core/errors.js';
import { assertNodeFs } from '../core/runtime.js';

type FsPromises = typeof import('node:fs/promises');
type PathModule = typeof import('node:path');

/**
 * Node's `fs/promises` and `path`, imported lazily so that browser bundles of medvae never reach
 * for them unless a file-system function is actually called.
 */
export async function nodeFs(): Promise<{ fs: FsPromises; path: PathModule }> {
  assertNodeFs('Saving or loading a model by directory');
  try {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return { fs, path };
  } catch (err) {
    throw new MedvaeError(
      'File-system paths are only supported in Node.js. In a browser, pass bytes (Uint8Array) or a tfjs IO URL such as indexeddb://name.',
      { cause: err },
    );
  }
}

/**
 * Writes `data` to `file` atomically: first to a temporary file in the same directory, then
 * renamed over the target, so a crash mid-write never leaves a truncated file where a good one was.
 * Parent directories are created as needed.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const { fs, path } = await nodeFs();
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
