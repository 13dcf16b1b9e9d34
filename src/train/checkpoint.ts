import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../core/module.js';
import type { Generator, GeneratorState } from '../core/random.js';
import { FileFormatError } from '../core/errors.js';
import type { Optimizer } from '../optim/optimizer.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { nodeFs } from '../io/node-fs.js';
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
  /** The last completed epoch (0-based). */
  epoch: number;
  /** Steps completed over the run. */
  globalStep: number;
  /** History up to and including `epoch`. */
  history: EpochRecord[];
}

interface CheckpointMeta extends CheckpointProgress {
  version: 1;
  optimizers: Record<string, { kind: string; stepCount: number; lr: number }>;
  generators: Record<string, GeneratorState>;
}

const META_KEY = 'medvae.checkpoint';

/**
 * Writes a checkpoint as one safetensors file (weights under `model/`, optimizer slots under
 * `optim/<name>/`, run state in the metadata). The write is atomic: a crash leaves the previous
 * checkpoint intact.
 */
export async function saveCheckpoint(file: string, target: CheckpointTarget, progress: CheckpointProgress): Promise<void> {
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
  const meta: CheckpointMeta = { version: 1, ...progress, optimizers, generators };
  await saveSafetensors(file, tensors, { [META_KEY]: JSON.stringify(meta) });
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
 * generator states) and returns where the run stood.
 *
 * @throws {@link FileFormatError} when the file is not a medvae checkpoint; {@link StateDictError}
 *   when its weights do not fit the model.
 */
export async function loadCheckpoint(file: string, target: CheckpointTarget): Promise<CheckpointProgress> {
  const { tensors, metadata } = await loadSafetensors(file);
  try {
    const raw = metadata[META_KEY];
    if (raw === undefined) throw new FileFormatError(`${file} is a safetensors file but not a medvae checkpoint (no '${META_KEY}' metadata).`);
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(raw) as CheckpointMeta;
    } catch (err) {
      throw new FileFormatError(`${file}: checkpoint metadata is not valid JSON.`, { cause: err });
    }
    const model: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(tensors)) if (k.startsWith('model/')) model[k.slice('model/'.length)] = v;
    target.module.loadStateDict(model);
    for (const [name, opt] of Object.entries(target.optimizers)) {
      const m = meta.optimizers[name];
      if (m === undefined) throw new FileFormatError(`${file} has no state for optimizer '${name}' (it has: ${Object.keys(meta.optimizers).join(', ') || 'none'}).`);
      const prefix = `optim/${name}/`;
      const slots: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) slots[k.slice(prefix.length)] = v;
      opt.setState({ kind: m.kind, stepCount: m.stepCount, lr: m.lr, slots });
    }
    for (const [name, g] of Object.entries(target.generators)) {
      const s = meta.generators[name];
      if (s !== undefined) g.setState(s);
    }
    return { epoch: meta.epoch, globalStep: meta.globalStep, history: meta.history };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
