import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../core/module.js';
import type { Generator, GeneratorState } from '../core/random.js';
import { FileFormatError } from '../core/errors.js';
import type { Optimizer } from '../optim/optimizer.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { io, nodeFs, writeFileAtomic } from '../io/node-fs.js';
import { canonicalJson, sha256Hex } from '../io/digest.js';
import { ChecksumError, NonFiniteError } from '../io/errors.js';
import type { EpochRecord } from './types.js';

/** Everything a checkpoint captures: the weights, each optimizer, and each generator. */
export interface CheckpointTarget {
  /** The model (parameters and buffers are saved). */
  module: AnyModule;
  /** Optimizers by name (slots, step counts and learning rates are saved). */
  optimizers: Record<string, Optimizer>;
  /** Generators by name whose states are saved, so random draws after a resume repeat exactly. */
  generators: Record<string, Generator>;
}

/** Where a run stood when a checkpoint was written. */
export interface CheckpointProgress {
  /** The last completed epoch (0-based; -1 when a mid-epoch checkpoint falls in the first epoch). */
  epoch: number;
  /** Steps completed over the run. */
  globalStep: number;
  /** History up to and including `epoch`. */
  history: EpochRecord[];
  /**
   * For a checkpoint written inside an epoch (every N steps): the steps already done in epoch
   * `epoch + 1`. Absent when the checkpoint was written at the end of epoch `epoch`.
   */
  stepInEpoch?: number;
  /** Any JSON the training loop wants back on resume (e.g. the log sums of a partial epoch). */
  extra?: Record<string, unknown>;
}

/**
 * Which run wrote a checkpoint: an optional user-given id and a hash of the run's defining
 * configuration. A resume is refused when either differs from the resuming run's.
 */
export interface CheckpointRun {
  /** The user's run id, when one was given. */
  runId?: string;
  /** SHA-256 of the canonical JSON of the run's configuration, when one was given. */
  configHash?: string;
}

/** The run-state record of a checkpoint (its safetensors metadata), as read back. @internal */
export interface CheckpointMeta extends CheckpointProgress {
  version: 1 | 2;
  optimizers: Record<string, { kind: string; stepCount: number; lr: number }>;
  generators: Record<string, GeneratorState>;
  run?: CheckpointRun;
}

const META_KEY = 'medvae.checkpoint';
const SUM_KEY = 'medvae.sha256';
// Written first, then overwritten in place by the real digest (same length, so no offset moves).
const SUM_PLACEHOLDER = '0'.repeat(64);

/** Names, dtypes and shapes of the tensors of a checkpoint, in a fixed order, for its digest. */
function layoutOf(tensors: Record<string, { dtype: string; shape: readonly number[] }>): string {
  return canonicalJson(
    Object.keys(tensors)
      .sort()
      .map((k) => [k, tensors[k].dtype, tensors[k].shape]),
  );
}

/** What the checksum covers: the run-state JSON, the tensor layout, and every data byte. */
async function checkpointDigest(meta: string, layout: string, data: Uint8Array): Promise<string | undefined> {
  const head = new TextEncoder().encode(`${meta}\n${layout}\n`);
  const all = new Uint8Array(head.length + data.length);
  all.set(head, 0);
  all.set(data, head.length);
  return sha256Hex(all);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  outer: for (let i = from; i + needle.length <= to; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Names of the F32 tensors of an encoded safetensors file that hold NaN or ±Infinity. */
function nonFiniteEntries(bytes: Uint8Array, headerLen: number): string[] {
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { dtype?: string; data_offsets?: [number, number] }>;
  const start = bytes.byteOffset + 8 + headerLen;
  const bad: string[] = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__' || e.dtype !== 'F32' || e.data_offsets === undefined) continue;
    const [b, end] = e.data_offsets;
    // The data section starts 8-byte aligned, and F32 entries follow only 4-byte-sized ones except
    // after a BOOL: copy in that rare case rather than view unaligned.
    const values = (start + b) % 4 === 0 ? new Float32Array(bytes.buffer, start + b, (end - b) / 4) : new Float32Array(bytes.slice(8 + headerLen + b, 8 + headerLen + end).buffer);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        bad.push(name);
        break;
      }
    }
  }
  return bad;
}

/**
 * Encodes a checkpoint: weights under `model/`, optimizer slots under `optim/<name>/`, run state
 * in the metadata, and a SHA-256 over all of it.
 *
 * @throws {@link NonFiniteError} when a weight or optimizer slot holds NaN or infinity.
 * @internal
 */
export async function encodeCheckpoint(target: CheckpointTarget, progress: CheckpointProgress, run?: CheckpointRun): Promise<Uint8Array> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(target.module.stateDict())) tensors[`model/${k}`] = v;
  const optimizers: CheckpointMeta['optimizers'] = {};
  for (const [name, opt] of Object.entries(target.optimizers)) {
    const state = opt.getState();
    optimizers[name] = { kind: state.kind, stepCount: state.stepCount, lr: state.lr };
    for (const [k, v] of Object.entries(state.slots)) tensors[`optim/${name}/${k}`] = v;
  }
  const generators: CheckpointMeta['generators'] = {};
  for (const [name, g] of Object.entries(target.generators)) generators[name] = g.getState();
  const meta: CheckpointMeta = { version: 2, ...progress, optimizers, generators, ...(run ? { run } : {}) };
  const metaJson = JSON.stringify(meta);
  const bytes = encodeSafetensors(tensors, { [META_KEY]: metaJson, [SUM_KEY]: SUM_PLACEHOLDER });
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  // Checked on the bytes about to be written: exactly what a resume would read back.
  const bad = nonFiniteEntries(bytes, headerLen);
  if (bad.length > 0) {
    throw new NonFiniteError(
      `Refusing to write a checkpoint at global step ${progress.globalStep}: ${bad.length} tensor(s) hold NaN or infinite values ` +
        `(${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}). The previous checkpoints are kept; resume from them with a lower learning rate or gradient clipping.`,
      bad,
    );
  }
  const digest = await checkpointDigest(metaJson, layoutOf(tensors), bytes.subarray(8 + headerLen));
  if (digest !== undefined) {
    const needle = new TextEncoder().encode(`"${SUM_KEY}":"${SUM_PLACEHOLDER}"`);
    const at = indexOfBytes(bytes, needle, 8, 8 + headerLen);
    if (at < 0) throw new Error('internal: checkpoint checksum placeholder not found in the header');
    bytes.set(new TextEncoder().encode(digest), at + needle.length - 1 - SUM_PLACEHOLDER.length);
  }
  return bytes;
}

/**
 * Decodes and verifies a checkpoint file's bytes. The caller owns the returned tensors.
 *
 * @throws {@link FileFormatError} when it is not a medvae checkpoint; {@link ChecksumError} when
 *   its contents do not match the checksum written with it.
 * @internal
 */
export async function decodeCheckpoint(bytes: Uint8Array, file: string): Promise<{ tensors: Record<string, tf.Tensor>; meta: CheckpointMeta }> {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  try {
    const raw = metadata[META_KEY];
    if (raw === undefined) throw new FileFormatError(`${file} is a safetensors file but not a medvae checkpoint (no '${META_KEY}' metadata).`);
    const expected = metadata[SUM_KEY];
    // Checkpoints written before checksums (version 1) have none and are read unchecked.
    if (expected !== undefined) {
      const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
      const actual = await checkpointDigest(raw, layoutOf(tensors), bytes.subarray(8 + headerLen));
      if (actual !== undefined && actual !== expected) {
        throw new ChecksumError(`${file}: the checkpoint does not match its SHA-256 checksum; the file is corrupt (a flipped bit or a damaged copy).`);
      }
    }
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(raw) as CheckpointMeta;
    } catch (err) {
      throw new FileFormatError(`${file}: checkpoint metadata is not valid JSON.`, { cause: err });
    }
    if (typeof meta !== 'object' || meta === null || !Number.isInteger(meta.epoch) || !Number.isInteger(meta.globalStep) || !Array.isArray(meta.history)) {
      throw new FileFormatError(`${file}: checkpoint metadata lacks epoch, globalStep or history.`);
    }
    // Only version-1 checkpoints (written before checksums) may lack one: a later one without it
    // had its checksum entry damaged.
    if (expected === undefined && meta.version !== 1) {
      throw new ChecksumError(`${file}: the checkpoint's checksum entry ('${SUM_KEY}') is missing or damaged; the file is corrupt.`);
    }
    return { tensors, meta };
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
}

/** Reads and verifies a checkpoint file (Node). The caller owns the tensors. @internal */
export async function readCheckpoint(file: string): Promise<{ tensors: Record<string, tf.Tensor>; meta: CheckpointMeta }> {
  const { fs } = await nodeFs();
  const bytes = await io('read', file, () => fs.readFile(file), 'Reading a checkpoint');
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/**
 * Puts a read checkpoint into the target (weights, optimizer states, generator states) and frees
 * its tensors. @internal
 */
export function restoreCheckpoint(file: string, read: { tensors: Record<string, tf.Tensor>; meta: CheckpointMeta }, target: CheckpointTarget): CheckpointProgress {
  const { tensors, meta } = read;
  try {
    for (const name of Object.keys(target.optimizers)) {
      if (meta.optimizers?.[name] === undefined) {
        throw new FileFormatError(`${file} has no state for optimizer '${name}' (it has: ${Object.keys(meta.optimizers ?? {}).join(', ') || 'none'}).`);
      }
    }
    const model: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(tensors)) if (k.startsWith('model/')) model[k.slice('model/'.length)] = v;
    target.module.loadStateDict(model);
    for (const [name, opt] of Object.entries(target.optimizers)) {
      const m = meta.optimizers[name];
      const prefix = `optim/${name}/`;
      const slots: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) slots[k.slice(prefix.length)] = v;
      opt.setState({ kind: m.kind, stepCount: m.stepCount, lr: m.lr, slots });
    }
    for (const [name, g] of Object.entries(target.generators)) {
      const s = meta.generators?.[name];
      if (s !== undefined) g.setState(s);
    }
    return {
      epoch: meta.epoch,
      globalStep: meta.globalStep,
      history: meta.history,
      ...(meta.stepInEpoch !== undefined ? { stepInEpoch: meta.stepInEpoch } : {}),
      ...(meta.extra !== undefined ? { extra: meta.extra } : {}),
    };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * Writes a checkpoint as one safetensors file (weights under `model/`, optimizer slots under
 * `optim/<name>/`, run state in the metadata, a SHA-256 checksum over all of it). The write is
 * atomic and flushed to disk: a crash leaves the previous checkpoint intact. To keep the last K
 * checkpoints, lock the path and resume with fallback, use {@link CheckpointManager}.
 *
 * @throws {@link NonFiniteError} (nothing written) when a weight or optimizer slot is NaN or
 *   infinite; {@link IoError} naming the path and the cause when the write fails.
 */
export async function saveCheckpoint(file: string, target: CheckpointTarget, progress: CheckpointProgress): Promise<void> {
  await writeFileAtomic(file, await encodeCheckpoint(target, progress), 'Writing a checkpoint');
}

/** True when `file` exists (Node). */
export async function checkpointExists(file: string): Promise<boolean> {
  const { fs } = await nodeFs();
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Restores a checkpoint written by {@link saveCheckpoint} into the target (weights, optimizer states,
 * generator states) and returns where the run stood. Checkpoints written before medvae stored
 * checksums load unchecked.
 *
 * @throws {@link FileFormatError} when the file is not a medvae checkpoint; {@link ChecksumError}
 *   when it is corrupt; {@link StateDictError} when its weights do not fit the model.
 */
export async function loadCheckpoint(file: string, target: CheckpointTarget): Promise<CheckpointProgress> {
  return restoreCheckpoint(file, await readCheckpoint(file), target);
}
