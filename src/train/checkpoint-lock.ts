// Internal: the lock file that keeps two runs from writing the same checkpoint path at once.
import { importNode } from '../core/runtime.js';
import { CheckpointLockedError, IoError, errorCode } from '../io/errors.js';
import { io, isProcessAlive, nodeFs } from '../io/node-fs.js';

interface LockRecord {
  pid: number;
  hostname: string;
  startedAt: string;
}

// Lock files this process holds. A lock naming this process's pid that is not in here was left by
// an earlier process that had the same pid (common for pid 1 in containers) and is stale.
const held = new Set<string>();

// A lock file with no readable record is being written right now or was left by a crash between
// creating and writing it; only after this long is it treated as the latter.
const UNREADABLE_GRACE_MS = 10_000;

async function hostname(): Promise<string> {
  const os = await importNode<typeof import('node:os')>('os');
  return os.hostname();
}

/** A held lock; {@link CheckpointLock.release} removes it. @internal */
export interface CheckpointLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Takes the lock `<path>.lock` for a checkpoint path: a small JSON file naming the holding process.
 * A lock whose process is gone (same host, dead pid), or that this process's pid holds without
 * knowing it, is taken over.
 *
 * @throws {@link CheckpointLockedError} when a live run (in this or another process) holds it.
 * @internal
 */
export async function acquireCheckpointLock(path: string): Promise<CheckpointLock> {
  const { fs } = await nodeFs();
  const file = `${path}.lock`;
  const me: LockRecord = { pid: process.pid, hostname: await hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
    try {
      handle = await fs.open(file, 'wx');
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw new IoError('create the lock file', file, err, 'Locking the checkpoint path');
    }
    if (handle !== undefined) {
      const h = handle;
      try {
        await io('write the lock file', file, () => h.writeFile(JSON.stringify(me)), 'Locking the checkpoint path');
      } catch (err) {
        await h.close().catch(() => undefined);
        await fs.rm(file, { force: true }).catch(() => undefined);
        throw err;
      }
      await h.close().catch(() => undefined);
      held.add(file);
      let released = false;
      return {
        file,
        async release() {
          if (released) return;
          released = true;
          held.delete(file);
          await fs.rm(file, { force: true }).catch(() => undefined);
        },
      };
    }
    const holder = await readLock(file);
    if (holder === 'gone') continue;
    if (holder === 'unreadable') {
      const st = await fs.stat(file).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs < UNREADABLE_GRACE_MS) {
        throw new CheckpointLockedError(`The checkpoint path '${path}' is being locked by another run right now (${file}). Use another checkpoint path, or wait for that run to finish.`, path, -1);
      }
    } else {
      const live = holder.hostname !== me.hostname || (holder.pid === process.pid ? held.has(file) : isProcessAlive(holder.pid));
      if (live) {
        const where = holder.pid === process.pid ? 'another fit in this process' : `process ${holder.pid}${holder.hostname !== me.hostname ? ` on ${holder.hostname}` : ''}`;
        throw new CheckpointLockedError(
          `The checkpoint path '${path}' is in use by ${where} (since ${holder.startedAt}; lock file ${file}). Two runs writing one checkpoint would overwrite each other's progress: ` +
            `use another checkpoint path, or wait for that run to finish${holder.hostname !== me.hostname ? ' (if it is no longer running, delete the lock file)' : ''}.`,
          path,
          holder.pid,
        );
      }
    }
    // Stale: its process is gone. Remove it and try again.
    await fs.rm(file, { force: true });
  }
  throw new CheckpointLockedError(`Could not take the lock ${file} for the checkpoint path '${path}': other runs keep taking it.`, path, -1);
}

async function readLock(file: string): Promise<LockRecord | 'gone' | 'unreadable'> {
  const { fs } = await nodeFs();
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    return errorCode(err) === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid === 'number' && typeof r.hostname === 'string') return { pid: r.pid, hostname: r.hostname, startedAt: String(r.startedAt) };
  } catch {
    // Falls through: a half-written record.
  }
  return 'unreadable';
}
