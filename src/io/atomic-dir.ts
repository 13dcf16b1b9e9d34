// Internal: replacing a whole directory of files atomically, and finding the previous copy again
// after a crash in the middle of a replacement.
import { IoError, errorCode } from './errors.js';
import { fsyncDir, io, isProcessAlive, makeDir, nodeFs, tempOwner, tempToken, writeFileDurable } from './node-fs.js';

/** Marker of the sibling directory a new version is written into before it is renamed into place. */
export const TMP_MARK = '.medvae-tmp-';
/** Marker of the sibling the previous version is renamed to while the new one takes its name. */
export const OLD_MARK = '.medvae-old-';

/**
 * Replaces directory `dir` by one holding exactly `files` (plus whatever else the old directory
 * held besides those names, carried over by hard link or copy), so that at every instant a crash
 * leaves either the complete old version or the complete new one:
 *
 * 1. write every file into a fresh sibling `<dir>.medvae-tmp-<pid>-…`, flush each, flush the dir;
 * 2. rename the old `dir` aside to `<dir>.medvae-old-<pid>-…` (skipped when there is none);
 * 3. rename the new directory to `dir`, flush the parent;
 * 4. remove the old version, and leftovers of crashed processes.
 *
 * A crash between 2 and 3 leaves no `dir` but the complete old version aside, which
 * {@link recoverableSiblings} finds.
 *
 * @internal
 */
export async function replaceDirAtomic(dir: string, files: Record<string, Uint8Array | string>, context: string): Promise<void> {
  const { fs, path } = await nodeFs();
  let target = path.resolve(dir);
  const inspect = (p: string) =>
    fs.lstat(p).catch((err: unknown) => {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw new IoError('inspect', p, err, context);
    });
  let existing = await inspect(target);
  // A symlink to a directory (e.g. runs/latest): replace the directory it points to, keep the link.
  if (existing?.isSymbolicLink()) {
    target = await io('resolve the link', target, () => fs.realpath(target), context);
    existing = await inspect(target);
  }
  // Renaming the working directory (or one above it) aside would leave this process in a deleted
  // directory once the old version is removed.
  const cwd = process.cwd();
  if (cwd === target || cwd.startsWith(target + path.sep) || path.dirname(target) === target) {
    throw new IoError('replace', target, Object.assign(new Error('busy'), { code: 'EBUSY' }), `${context}: it is the working directory, one above it, or the root; a save replaces its directory as a whole`);
  }
  const parent = path.dirname(target);
  const base = path.basename(target);
  await makeDir(parent, context);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new IoError('save into', target, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), `${context}: a file, not a directory, exists there`);
  }
  // After a crash between moving the previous version aside and renaming the new one in, the
  // previous version (with any files of the user's in it) is only aside: carry from there.
  const carryFrom = existing !== undefined ? target : (await recoverableSiblings(target))[0];
  const token = tempToken();
  const tmp = path.join(parent, `${base}${TMP_MARK}${token}`);
  const aside = path.join(parent, `${base}${OLD_MARK}${token}`);
  let movedAside = false;
  try {
    await io('create directory', tmp, () => fs.mkdir(tmp), context);
    for (const [name, data] of Object.entries(files)) await writeFileDurable(path.join(tmp, name), data, context);
    if (carryFrom !== undefined) await carryOver(carryFrom, tmp, new Set(Object.keys(files)), context);
    await fsyncDir(tmp);
    if (existing !== undefined) {
      await io('move the previous version aside', target, () => fs.rename(target, aside), context);
      movedAside = true;
    }
    await io('rename into place', target, () => fs.rename(tmp, target), context);
    movedAside = false;
    await fsyncDir(parent);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    // Put the previous version back under its name; if even that fails, loading still finds it aside.
    if (movedAside) await fs.rename(aside, target).catch(() => undefined);
    throw err;
  }
  if (existing !== undefined) await fs.rm(aside, { recursive: true, force: true }).catch(() => undefined);
  await removeStaleSiblings(target);
}

/**
 * Carries the entries of `from` that medvae does not rewrite into `to`, as hard links (no data is
 * copied, and a crash at any point leaves the originals where they were); copies only where a
 * file system refuses hard links.
 */
async function carryOver(from: string, to: string, skip: Set<string>, context: string): Promise<void> {
  const { fs, path } = await nodeFs();
  const entries = await io('list', from, () => fs.readdir(from, { withFileTypes: true }), context);
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      await io('create directory', dst, () => fs.mkdir(dst), context);
      await carryOver(src, dst, new Set(), context);
    } else if (e.isSymbolicLink()) {
      const link = await io('read the link', src, () => fs.readlink(src), context);
      await io('create the link', dst, () => fs.symlink(link, dst), context);
    } else {
      try {
        await fs.link(src, dst);
      } catch {
        await io('copy', src, () => fs.copyFile(src, dst), context);
      }
    }
  }
}

/**
 * Removes `<dir>.medvae-tmp-*` and `<dir>.medvae-old-*` siblings left by processes that no longer
 * run. A left-over old version is removed only while `dir` itself exists (it is then superseded).
 * @internal
 */
export async function removeStaleSiblings(dir: string): Promise<void> {
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  const names = await fs.readdir(parent).catch(() => [] as string[]);
  const targetExists = await fs.stat(path.join(target)).then(
    () => true,
    () => false,
  );
  for (const name of names) {
    for (const mark of [TMP_MARK, OLD_MARK]) {
      const pid = tempOwner(name, base, mark);
      if (pid === undefined || isProcessAlive(pid)) continue;
      if (mark === OLD_MARK && !targetExists) continue;
      await fs.rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/**
 * Previous versions of `dir` set aside by a replacement that was interrupted (newest first), for
 * loading when `dir` itself is missing.
 * @internal
 */
export async function recoverableSiblings(dir: string): Promise<string[]> {
  const { fs, path } = await nodeFs();
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  const names = await fs.readdir(parent).catch(() => [] as string[]);
  const found: { p: string; t: number }[] = [];
  for (const name of names) {
    if (tempOwner(name, base, OLD_MARK) === undefined) continue;
    const p = path.join(parent, name);
    const st = await fs.stat(p).catch(() => undefined);
    if (st?.isDirectory()) found.push({ p, t: st.mtimeMs });
  }
  return found.sort((a, b) => b.t - a.t).map((f) => f.p);
}
