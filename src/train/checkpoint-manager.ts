import { MedvaeError, ValueError } from '../core/errors.js';
import { canonicalJson, sha256Hex } from '../io/digest.js';
import { RunMismatchError, errorCode } from '../io/errors.js';
import { fsyncDir, io, isProcessAlive, nodeFs, tempOwner, tempToken, writeFileDurable } from '../io/node-fs.js';
import { preflightCheckpoint } from '../io/preflight.js';
import { acquireCheckpointLock, type CheckpointLock } from './checkpoint-lock.js';
import { encodeCheckpoint, readCheckpoint, restoreCheckpoint, type CheckpointProgress, type CheckpointRun, type CheckpointTarget } from './checkpoint.js';

/** What identifies a training run, so that a resume picks up only its own checkpoints. */
export interface RunIdentity {
  /** A name the user gives the run (e.g. `'unet-fold3'`). */
  runId?: string;
  /**
   * Any JSON value that defines the run: the model's class and config and the optimisation
   * settings. Leave out what may change between a run and its resume (the epoch count, `maxSteps`).
   * Only its SHA-256 is stored.
   */
  config?: unknown;
}

/** Options of {@link CheckpointManager.open}. */
export interface CheckpointManagerOptions {
  /** The newest checkpoint's file, e.g. `runs/ckpt.safetensors`; older ones are `<path>.1`, `<path>.2`, …. */
  path: string;
  /** How many of the newest checkpoints to keep (an integer ≥ 1). Default 2. */
  keep?: number;
  /**
   * Continue from the newest good checkpoint: `true` refuses a checkpoint written by another run
   * (different `runId` or configuration: {@link RunMismatchError}); `'force'` accepts it. Default
   * `false`: the run starts over, and its first checkpoint replaces those found at `path`.
   */
  resume?: boolean | 'force';
  /** This run's identity, recorded in every checkpoint and compared on resume. */
  identity?: RunIdentity;
}

/** Where a resumed run stands, and which file it was restored from. */
export interface ResumedCheckpoint extends CheckpointProgress {
  /** The checkpoint file that was restored (an older one when the newest was corrupt). */
  file: string;
  /** Checkpoints that were skipped because they could not be read, with the reason. */
  skipped: { file: string; reason: string }[];
}

/**
 * The checkpoints of one training run at one path: keeps the last K good ones, refuses non-finite
 * state, records the run's identity, resumes from the newest readable one, and holds a lock so no
 * second run writes the same path meanwhile.
 *
 * Files: the newest checkpoint is `path` itself; older ones are `path.1` (the one before), `path.2`,
 * … up to `path.(keep-1)`. Each is written to a temporary file, flushed, and renamed into place, so a
 * crash at any moment leaves at least the previous newest checkpoint complete.
 *
 * @example
 * ```ts
 * const ckpt = await CheckpointManager.open({ path: 'runs/ckpt.safetensors', resume: true, identity: { config: model.config } });
 * try {
 *   const restored = await ckpt.resume({ module: model, optimizers: { adam }, generators: { run: gen } });
 *   // … train, then after each epoch:
 *   await ckpt.save({ module: model, optimizers: { adam }, generators: { run: gen } }, { epoch, globalStep, history });
 * } finally {
 *   await ckpt.close();
 * }
 * ```
 */
export class CheckpointManager {
  /** The newest checkpoint's path. */
  readonly path: string;
  /** How many checkpoints are kept. */
  readonly keep: number;
  private readonly resumeMode: boolean | 'force';
  private readonly run: CheckpointRun;
  private lock: CheckpointLock | undefined;
  private good: string | undefined;
  // Until this run has written or restored a checkpoint, what lies at the path is someone else's
  // (an earlier run that is being started over): the first save replaces all of it.
  private continuing = false;

  private constructor(path: string, keep: number, resume: boolean | 'force', run: CheckpointRun, lock: CheckpointLock) {
    this.path = path;
    this.keep = keep;
    this.resumeMode = resume;
    this.run = run;
    this.lock = lock;
  }

  /**
   * Checks that `path` can be written (before any training: {@link preflightCheckpoint}), takes its
   * lock, and removes temporary files that crashed runs left beside it.
   *
   * @throws {@link IoError} when the path cannot be written (with the path and the cause);
   *   {@link CheckpointLockedError} when another live run holds the path; {@link ValueError} for
   *   bad options.
   */
  static async open(options: CheckpointManagerOptions): Promise<CheckpointManager> {
    if (typeof options.path !== 'string' || options.path === '') throw new ValueError(`checkpoint.path must be a non-empty file path, but got ${JSON.stringify(options.path)}.`);
    const keep = options.keep ?? 2;
    if (!Number.isInteger(keep) || keep < 1) throw new ValueError(`checkpoint.keep must be an integer ≥ 1 (how many of the newest checkpoints to keep), but got ${keep}.`);
    const resume = options.resume ?? false;
    if (resume !== true && resume !== false && resume !== 'force') throw new ValueError(`checkpoint.resume must be true, false or 'force', but got ${JSON.stringify(resume)}.`);
    const { path } = await nodeFs();
    const file = path.resolve(options.path);
    const run: CheckpointRun = {};
    if (options.identity?.runId !== undefined) {
      if (typeof options.identity.runId !== 'string' || options.identity.runId === '') throw new ValueError(`runId must be a non-empty string, but got ${JSON.stringify(options.identity.runId)}.`);
      run.runId = options.identity.runId;
    }
    if (options.identity?.config !== undefined) run.configHash = await sha256Hex(canonicalJson(options.identity.config));
    await preflightCheckpoint(file);
    const lock = await acquireCheckpointLock(file);
    const manager = new CheckpointManager(file, keep, resume, run, lock);
    try {
      await manager.removeStaleTemporaries();
    } catch (err) {
      await lock.release();
      throw err;
    }
    return manager;
  }

  /** The newest checkpoint this run wrote or resumed from, if any (for error messages). */
  get lastGood(): string | undefined {
    return this.good;
  }

  /** The checkpoint files present at the path, newest first. */
  async files(): Promise<string[]> {
    const { fs, path } = await nodeFs();
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    const names = await io('list', dir, () => fs.readdir(dir), 'Listing checkpoints');
    const slots: { i: number; f: string }[] = [];
    for (const n of names) {
      if (n === base) slots.push({ i: 0, f: this.path });
      else if (n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1))) slots.push({ i: Number(n.slice(base.length + 1)), f: path.join(dir, n) });
    }
    return slots.sort((a, b) => a.i - b.i).map((s) => s.f);
  }

  /**
   * Restores the newest readable checkpoint into `target` and returns where the run stood, or
   * `undefined` when resuming is off or there is no checkpoint yet. A checkpoint that is corrupt
   * (checksum, truncation) is skipped for the next older one.
   *
   * @throws {@link RunMismatchError} when the checkpoint belongs to another run (unless `resume:
   *   'force'`); the newest checkpoint's error when none is readable; {@link StateDictError} when
   *   the weights do not fit the model.
   */
  async resume(target: CheckpointTarget): Promise<ResumedCheckpoint | undefined> {
    this.assertOpen();
    if (this.resumeMode === false) return undefined;
    const files = await this.files();
    const skipped: { file: string; reason: string }[] = [];
    let firstError: unknown;
    for (const file of files) {
      let read: Awaited<ReturnType<typeof readCheckpoint>>;
      try {
        read = await readCheckpoint(file);
      } catch (err) {
        if (!(err instanceof MedvaeError)) throw err;
        firstError ??= err;
        skipped.push({ file, reason: err.message });
        continue;
      }
      try {
        this.checkIdentity(file, read.meta.run);
      } catch (err) {
        restoreNothing(read);
        throw err;
      }
      const progress = restoreCheckpoint(file, read, target);
      this.good = file;
      this.continuing = true;
      return { ...progress, file, skipped };
    }
    if (firstError !== undefined) {
      if (skipped.length > 1) {
        throw new MedvaeError(`None of the ${skipped.length} checkpoints at '${this.path}' can be read:\n  - ${skipped.map((s) => s.reason).join('\n  - ')}`, { cause: firstError });
      }
      throw firstError;
    }
    return undefined;
  }

  private checkIdentity(file: string, theirs: CheckpointRun | undefined): void {
    if (this.resumeMode === 'force' || theirs === undefined) return;
    const problems: string[] = [];
    if (theirs.runId !== undefined && this.run.runId !== undefined && theirs.runId !== this.run.runId) problems.push(`it was written by run '${theirs.runId}', this is run '${this.run.runId}'`);
    if (theirs.configHash !== undefined && this.run.configHash !== undefined && theirs.configHash !== this.run.configHash) {
      problems.push(`its run configuration differs (hash ${theirs.configHash.slice(0, 12)}… there, ${this.run.configHash.slice(0, 12)}… here)`);
    }
    if (problems.length > 0) {
      throw new RunMismatchError(
        `Refusing to resume from ${file}: ${problems.join('; ')}. Another run's checkpoint would silently take this run over. ` +
          "Use a checkpoint path of this run's own, or pass resume: 'force' to continue from it anyway.",
      );
    }
  }

  /**
   * Writes a checkpoint as the newest, shifting the older ones down and dropping those beyond
   * `keep`. Nothing is written when a tensor is non-finite.
   *
   * @returns the path written (always {@link CheckpointManager.path}).
   * @throws {@link NonFiniteError} when a weight or optimizer slot is NaN or infinite (the
   *   checkpoints on disk are left as they were); {@link IoError} with the path and the cause.
   */
  async save(target: CheckpointTarget, progress: CheckpointProgress): Promise<string> {
    this.assertOpen();
    const bytes = await encodeCheckpoint(target, progress, this.run);
    const { fs, path } = await nodeFs();
    const dir = path.dirname(this.path);
    const tmp = `${this.path}.tmp-${tempToken()}`;
    try {
      await writeFileDurable(tmp, bytes, 'Writing a checkpoint');
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    const ctx = 'Writing a checkpoint';
    const existing = await this.files();
    if (!this.continuing) {
      // A fresh run: what is there belongs to the run being started over. Replace the newest in one
      // rename (so there is never no checkpoint), then drop the older ones.
      await io('rename into place', this.path, () => fs.rename(tmp, this.path), ctx);
      for (const f of existing) if (f !== this.path) await io('remove', f, () => fs.rm(f, { force: true }), ctx);
    } else {
      const slotOf = (f: string): number => (f === this.path ? 0 : Number(f.slice(this.path.length + 1)));
      // Oldest first, so that every rename moves a file to a free name.
      for (const f of [...existing].reverse()) {
        const i = slotOf(f);
        // keep = 1: the newest is replaced by the rename below, never removed first.
        if (i === 0 && this.keep === 1) continue;
        if (i + 1 >= this.keep) await io('remove', f, () => fs.rm(f, { force: true }), ctx);
        else await io('rename', f, () => fs.rename(f, `${this.path}.${i + 1}`), ctx);
      }
      await io('rename into place', this.path, () => fs.rename(tmp, this.path), ctx);
    }
    await fsyncDir(dir);
    this.continuing = true;
    this.good = this.path;
    return this.path;
  }

  /** Releases the lock. Idempotent; the manager cannot save or resume afterwards. */
  async close(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  private assertOpen(): void {
    if (this.lock === undefined) throw new MedvaeError(`The checkpoint manager of '${this.path}' is closed; open a new one with CheckpointManager.open.`);
  }

  /** Removes `<path>.tmp-*` files of processes that no longer run (crashed writes). */
  private async removeStaleTemporaries(): Promise<void> {
    const { fs, path } = await nodeFs();
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    const names = await io('list', dir, () => fs.readdir(dir), 'Cleaning up after crashed runs');
    for (const n of names) {
      const pid = tempOwner(n, base, '.tmp-');
      if (pid === undefined || (pid !== process.pid && isProcessAlive(pid))) continue;
      // This process's own temporaries can be in flight only while it holds the lock, which it is
      // only now taking, so they are leftovers too.
      await fs.rm(path.join(dir, n), { force: true }).catch((err: unknown) => {
        if (errorCode(err) !== 'ENOENT') throw err;
      });
    }
  }
}

function restoreNothing(read: Awaited<ReturnType<typeof readCheckpoint>>): void {
  for (const t of Object.values(read.tensors)) t.dispose();
}
