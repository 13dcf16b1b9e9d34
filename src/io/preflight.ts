import { IoError, errorCode } from './errors.js';
import { TMP_MARK } from './atomic-dir.js';
import { io, makeDir, nodeFs, tempToken, writeFileDurable } from './node-fs.js';

function fakeErrno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Checks, before any training, that a file such as a checkpoint can be written at `file`: the path
 * is not a directory, its directory exists or can be created, and a small file can be created,
 * flushed and removed there. A read-only or full disk, missing permissions or a directory in the
 * way are thus reported at once instead of after the first epoch.
 *
 * @throws {@link IoError} with the path and the cause (`EISDIR`, `EROFS`, `EACCES`, `ENOSPC`, …).
 */
export async function preflightCheckpoint(file: string, context = 'Checking the checkpoint path'): Promise<void> {
  const { fs, path } = await nodeFs();
  const st = await fs.stat(file).catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new IoError('inspect', file, err, context);
  });
  if (st?.isDirectory()) throw new IoError('write the checkpoint file', file, fakeErrno('EISDIR', 'is a directory'), context);
  await makeDir(path.dirname(file), context);
  // Named like a temporary file of a real write, so a crash right here leaves nothing that a later
  // run's clean-up would not remove.
  const probe = `${file}.tmp-${tempToken()}`;
  try {
    await writeFileDurable(probe, 'medvae write check\n', context);
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
}

/**
 * Checks, before any training, that a model can be saved into directory `dir` (see
 * `model.save`): it is a directory or can be created, and its parent accepts the temporary sibling
 * directory a save writes first. tfjs IO URLs (`indexeddb://…`) are not checked here.
 *
 * @throws {@link IoError} with the path and the cause (`ENOTDIR`, `EROFS`, `EACCES`, `ENOSPC`, …).
 */
export async function preflightSaveTarget(dir: string, context = 'Checking the save directory'): Promise<void> {
  // tfjs IO URLs (indexeddb://, http://, …) are checked by their handler when saving.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir) && !dir.startsWith('file://')) return;
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir.startsWith('file://') ? dir.slice('file://'.length) : dir);
  const st = await fs.stat(target).catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new IoError('inspect', target, err, context);
  });
  if (st !== undefined && !st.isDirectory()) throw new IoError('save into', target, fakeErrno('ENOTDIR', 'not a directory'), context);
  const parent = path.dirname(target);
  await makeDir(parent, context);
  const probe = path.join(parent, `${path.basename(target)}${TMP_MARK}${tempToken()}`);
  try {
    await io('create directory', probe, () => fs.mkdir(probe), context);
    await writeFileDurable(path.join(probe, 'probe'), 'medvae write check\n', context);
  } finally {
    await fs.rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}
