import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, ValueError } from '../core/errors.js';
import type { AnyModule, StateDict } from '../core/module.js';
import { formatShape } from '../core/shape.js';

/** Options of {@link EMA}, named and defaulted as diffusers' `EMAModel` (camelCase). */
export interface EMAOptions {
  /** The largest decay; the effective decay ramps up to it (see {@link EMA.getDecay}). Default 0.9999. */
  decay?: number;
  /** The smallest decay once updates have started. Default 0. */
  minDecay?: number;
  /** Updates before this many calls only copy the weights (decay 0). Default 0. */
  updateAfterStep?: number;
  /**
   * Use the warmup 1 − (1 + step/invGamma)^(−power) instead of diffusers' default ramp
   * (1 + step)/(10 + step). Default false.
   */
  useEmaWarmup?: boolean;
  /** Warmup time scale (with `useEmaWarmup`). Default 1. */
  invGamma?: number;
  /** Warmup exponent (with `useEmaWarmup`); 2/3 suits long runs, 3/4 short ones. Default 2/3. */
  power?: number;
}

/**
 * An exponential moving average of a module's parameters, as diffusers' `EMAModel`: after each
 * optimizer step, `update()` moves every shadow weight towards the live one,
 * shadow ← shadow − (1 − d)·(shadow − param), with the decay d from {@link EMA.getDecay}.
 * Diffusion models are sampled with the averaged weights, which are smoother than the last
 * iterate.
 *
 * The shadow weights are `tf.Variable`s keyed by the module's parameter names, so they can be
 * saved next to the model ({@link EMA.stateDict}, including the update count, which the decay ramp
 * depends on). Buffers (e.g. BatchNorm statistics) are not averaged, as in diffusers. Frozen
 * parameters are copied rather than averaged.
 *
 * @example
 * ```ts
 * const ema = new EMA(model, { decay: 0.999 });
 * // in the training loop, after optimizer.step(...):
 * ema.update();
 * // sampling with the averaged weights:
 * ema.store(); ema.copyTo(); const out = model.forward(x); ema.restore();
 * ```
 */
export class EMA {
  /** The module whose parameters are averaged. */
  readonly module: AnyModule;
  /** Largest decay. Settable, e.g. when a later training run asks for another one. */
  decay: number;
  /** See {@link EMAOptions.minDecay}. */
  minDecay: number;
  /** See {@link EMAOptions.updateAfterStep}. */
  updateAfterStep: number;
  /** See {@link EMAOptions.useEmaWarmup}. */
  useEmaWarmup: boolean;
  /** See {@link EMAOptions.invGamma}. */
  invGamma: number;
  /** See {@link EMAOptions.power}. */
  power: number;
  private readonly shadow = new Map<string, tf.Variable>();
  // Kept as a variable (not a number) so a state dict loaded into it restores the count too.
  private readonly step: tf.Variable;
  private stored: Map<string, tf.Tensor> | null = null;
  private disposed = false;

  /**
   * @param module - the module to track; the shadow starts as a copy of its current parameters.
   * @param options - see {@link EMAOptions}.
   */
  constructor(module: AnyModule, options: EMAOptions = {}) {
    this.module = module;
    this.decay = options.decay ?? 0.9999;
    this.minDecay = options.minDecay ?? 0;
    this.updateAfterStep = options.updateAfterStep ?? 0;
    this.useEmaWarmup = options.useEmaWarmup ?? false;
    this.invGamma = options.invGamma ?? 1;
    this.power = options.power ?? 2 / 3;
    checkDecay(this.decay, 'decay');
    checkDecay(this.minDecay, 'minDecay');
    if (!Number.isInteger(this.updateAfterStep) || this.updateAfterStep < 0) {
      throw new ValueError(`EMA updateAfterStep must be a non-negative integer, but got ${this.updateAfterStep}.`);
    }
    if (!(this.invGamma > 0)) throw new ValueError(`EMA invGamma must be > 0, but got ${this.invGamma}.`);
    if (!(this.power > 0)) throw new ValueError(`EMA power must be > 0, but got ${this.power}.`);
    for (const [name, p] of module.namedParameters()) this.shadow.set(name, tf.variable(p, false));
    // tidy frees the initial scalar (tf.variable keeps its own reference to the data).
    this.step = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false));
    this.stepMirror = { dataId: this.step.dataId, value: 0 };
  }

  private stepMirror: { dataId: object; value: number } | null = null;

  /** Number of {@link EMA.update} calls so far (diffusers' `optimization_step`). */
  get optimizationStep(): number {
    // The count is mirrored on the host so a training step's update need not read it back; the
    // variable stays the saved truth, and a restore that assigns it (new data) is re-read once.
    if (this.stepMirror !== null && this.stepMirror.dataId === this.step.dataId) return this.stepMirror.value;
    const value = this.step.dataSync()[0];
    this.stepMirror = { dataId: this.step.dataId, value };
    return value;
  }


  /**
   * The decay used by the update numbered `optimizationStep` (1 for the first update), as
   * diffusers' `get_decay`: with s = optimizationStep − updateAfterStep − 1, it is 0 for s ≤ 0
   * (the first update copies the weights), else (1 + s)/(10 + s), or 1 − (1 + s/invGamma)^(−power)
   * with `useEmaWarmup`; then clamped to [minDecay, decay]. The ramp keeps early averages from
   * being dominated by the random initialisation.
   */
  getDecay(optimizationStep: number): number {
    const s = Math.max(0, optimizationStep - this.updateAfterStep - 1);
    if (s <= 0) return 0;
    const ramp = this.useEmaWarmup ? 1 - (1 + s / this.invGamma) ** -this.power : (1 + s) / (10 + s);
    return Math.max(Math.min(ramp, this.decay), this.minDecay);
  }

  /** Moves the shadow weights one step towards the module's current parameters. */
  update(): void {
    this.assertLive('update');
    const n = this.optimizationStep + 1;
    const oneMinus = 1 - this.getDecay(n);
    tf.tidy(() => {
      for (const [name, p] of this.module.namedParameters()) {
        const s = this.shadowOf(name, p);
        s.assign(p.trainable ? tf.sub(s, tf.mul(tf.sub(s, p), oneMinus)) : p);
      }
      this.step.assign(tf.scalar(n, 'int32'));
    });
    this.stepMirror = { dataId: this.step.dataId, value: n };
  }

  /** Copies the shadow weights into `module` (default: the tracked one), e.g. for sampling or export. */
  copyTo(module: AnyModule = this.module): void {
    this.assertLive('copyTo');
    for (const [name, p] of module.namedParameters()) p.assign(this.shadowOf(name, p));
  }

  /**
   * Keeps a copy of the tracked module's current parameters, so {@link EMA.restore} can put them
   * back after sampling with the averaged weights.
   */
  store(): void {
    this.assertLive('store');
    if (this.stored) throw new ValueError('EMA.store: weights are already stored; call restore() before storing again.');
    this.stored = new Map(this.module.namedParameters().map(([name, p]) => [name, tf.clone(p)]));
  }

  /** Puts back the parameters saved by {@link EMA.store} and frees the copy. */
  restore(): void {
    this.assertLive('restore');
    const stored = this.stored;
    if (!stored) throw new ValueError('EMA.restore: nothing is stored; call store() first.');
    for (const [name, p] of this.module.namedParameters()) {
      const t = stored.get(name);
      if (t) p.assign(t);
    }
    tf.dispose([...stored.values()]);
    this.stored = null;
  }

  /**
   * Runs `fn` with the shadow weights in the tracked module and puts the live ones back afterwards,
   * even when `fn` throws.
   */
  async withAveragedWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    this.store();
    try {
      this.copyTo();
      return await fn();
    } finally {
      this.restore();
    }
  }

  /**
   * The shadow weights by parameter name, plus `optimization_step` (int32 scalar). The tensors are
   * the live variables: save them, do not dispose them. Prefix keys to nest them in a model's dict.
   */
  stateDict(prefix = ''): StateDict {
    const key = (k: string): string => (prefix ? `${prefix}.${k}` : k);
    const out: StateDict = {};
    for (const [name, v] of this.shadow) out[key(name)] = v;
    out[key('optimization_step')] = this.step;
    return out;
  }

  /** Loads shadow weights and the update count written by {@link EMA.stateDict}; names and shapes must match. */
  loadStateDict(state: StateDict): void {
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, target] of Object.entries(own)) {
      const src = state[k];
      if (src === undefined) problems.push(`missing ${k}`);
      else if (src.shape.join(',') !== target.shape.join(',')) problems.push(`${k}: shape ${formatShape(src.shape)} vs ${formatShape(target.shape)}`);
    }
    for (const k of Object.keys(state)) if (!(k in own)) problems.push(`unexpected ${k}`);
    if (problems.length > 0) {
      throw new StateDictError(`Cannot load EMA state:\n  - ${problems.join('\n  - ')}\nThe EMA must track a module built with the same configuration.`);
    }
    tf.tidy(() => {
      for (const [k, target] of Object.entries(own)) {
        const src = state[k];
        (target as tf.Variable).assign(src.dtype === target.dtype ? src : tf.cast(src, target.dtype));
      }
    });
  }

  /** Frees the shadow weights (and any stored copy). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.shadow.values()) v.dispose();
    this.shadow.clear();
    this.step.dispose();
    if (this.stored) tf.dispose([...this.stored.values()]);
    this.stored = null;
    this.disposed = true;
  }

  private shadowOf(name: string, p: tf.Tensor): tf.Variable {
    const s = this.shadow.get(name);
    if (!s) throw new StateDictError(`EMA has no shadow weight for parameter '${name}': the module's parameters changed after the EMA was made.`);
    if (s.shape.join(',') !== p.shape.join(',')) {
      throw new StateDictError(`EMA shadow '${name}' has shape ${formatShape(s.shape)} but the parameter has ${formatShape(p.shape)}.`);
    }
    return s;
  }

  private assertLive(fn: string): void {
    if (this.disposed) throw new ValueError(`EMA.${fn}: this EMA was disposed.`);
  }
}

function checkDecay(v: number, name: string): void {
  if (!(v >= 0 && v <= 1)) throw new ValueError(`EMA ${name} must be in [0, 1], but got ${v}.`);
}
