import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { variableGrads } from '../core/gradients.js';

/** Per-parameter optimizer state (moment estimates, momentum buffers), keyed by slot name. */
export type SlotState = Record<string, tf.Variable>;

/** A serialisable snapshot of an optimizer: its step count, learning rate and every slot tensor. */
export interface OptimizerState {
  /** Optimizer class name, checked on load. */
  kind: string;
  /** Number of `step` calls so far (Adam's bias correction depends on it). */
  stepCount: number;
  /** Current learning rate (schedulers change it). */
  lr: number;
  /** Slot tensors by `"<paramIndex>.<slot>"`, in the order of the optimizer's parameter list. */
  slots: Record<string, tf.Tensor>;
}

/** Options of {@link Optimizer.step}. */
export interface OptimizerStepOptions {
  /**
   * A scalar tensor: the update is applied only where it is nonzero (decided on the device; a zero
   * gate leaves parameters, slots and step count untouched). The caller keeps ownership.
   */
  gate?: tf.Tensor;
}

/**
 * Base class of medvae's optimizers. Like `torch.optim.Optimizer`, an optimizer is bound to a list of
 * parameters at construction and updates them in place from gradients; unlike tfjs's optimizers its
 * learning rate is a public, settable field (so schedulers can drive it) and its full state can be
 * saved and restored (so a resumed run continues exactly).
 */
export abstract class Optimizer {
  /** The parameters this optimizer updates, in order. */
  readonly params: readonly tf.Variable[];
  /** Learning rate used by the next step. Learning-rate schedulers set this. */
  lr: number;
  private readonly slotsByParam: SlotState[];
  // Steps known on the host, plus gated steps whose gates have not been read yet: their count
  // lives on the device (`gatedApplied`, a float32 scalar) and is at most `gatedCalls`.
  private knownSteps = 0;
  private gatedApplied: tf.Variable | null = null;
  private gatedCalls = 0;
  // Per-step cache of stepValue results (host numbers, or scalars selected on the device).
  private stepCache: Map<string, number | tf.Scalar> | null = null;
  // Whether the step being applied is gated (its own number is then knownSteps + 1 + pending).
  private currentGated = false;

  protected constructor(params: readonly tf.Variable[], lr: number) {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`Learning rate must be a finite number >= 0, but got ${lr}.`);
    const seen = new Set<tf.Variable>();
    for (const p of params) {
      if (seen.has(p)) throw new ValueError(`Parameter '${p.name}' appears twice in the optimizer's parameter list; pass each parameter once.`);
      seen.add(p);
    }
    this.params = [...params];
    this.lr = lr;
    this.slotsByParam = this.params.map(() => ({}));
  }

  /**
   * Number of completed steps (gated steps count only where their gate was set). When gated steps
   * have not been read yet ({@link Optimizer.settle}), reading this reads their gates back
   * synchronously; the training loop settles at every log read, so it never has to.
   */
  get stepCount(): number {
    if (this.gatedCalls > 0) this.settleSync();
    // Inside a gated step's update this is the number that step has if it applies.
    return this.knownSteps + (this.stepCache !== null && this.currentGated ? 1 : 0);
  }

  set stepCount(value: number) {
    this.dropGated();
    this.knownSteps = value;
  }

  /**
   * Folds the gated steps' count into {@link Optimizer.stepCount} with one asynchronous read.
   * Cheap when there is nothing to settle; the training loop calls it with every read of the logs,
   * so the candidate step numbers a gated step considers stay few.
   */
  async settle(): Promise<void> {
    const applied = this.gatedApplied;
    const calls = this.gatedCalls;
    if (applied === null || calls === 0) return;
    const snapshot = tf.clone(applied);
    try {
      const [n] = await snapshot.data();
      // Steps taken meanwhile stay pending: subtract only what was read.
      if (this.gatedApplied !== applied) return;
      this.knownSteps += n;
      this.gatedCalls -= calls;
      tf.tidy(() => applied.assign(tf.sub(applied, tf.scalar(n))));
    } finally {
      snapshot.dispose();
    }
  }

  private settleSync(): void {
    if (this.gatedApplied === null) return;
    this.knownSteps += this.gatedApplied.dataSync()[0];
    this.dropGated();
  }

  private dropGated(): void {
    this.gatedApplied?.dispose();
    this.gatedApplied = null;
    this.gatedCalls = 0;
  }

  /**
   * A quantity of the current step number t (1 for the first step), for use inside
   * {@link Optimizer.update}: `fn(t)` as a host number when t is known, else as a float32 scalar
   * picked on the device from `fn` at every possible t (gated steps not read yet leave t open).
   * The value is the same float32 either way, so a gated run matches an ungated one bit for bit.
   * `key` names the quantity (results are cached per step; `fn` must depend on t and fields only).
   */
  protected stepValue(key: string, fn: (t: number) => number): number | tf.Scalar {
    const cache = this.stepCache;
    if (cache === null) return fn(this.knownSteps);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const base = this.knownSteps + (this.currentGated ? 1 : 0);
    let value: number | tf.Scalar;
    if (this.gatedCalls === 0 || this.gatedApplied === null) value = fn(base);
    else {
      const table = Float32Array.from({ length: this.gatedCalls + 1 }, (_, k) => fn(base + k));
      value = tf.reshape(tf.gather(tf.tensor1d(table), tf.cast(tf.reshape(this.gatedApplied, [1]), 'int32')), []) as tf.Scalar;
    }
    cache.set(key, value);
    return value;
  }

  /** Returns the slot `name` of parameter `index`, creating it as zeros on first use. */
  protected slot(index: number, name: string): tf.Variable {
    const slots = this.slotsByParam[index];
    let v = slots[name];
    if (v === undefined) {
      // In a tidy, so the zeros the variable is made from do not outlive it (a slot made by
      // setState on resume otherwise left one tensor behind per slot).
      const param = this.params[index];
      v = tf.tidy(() => tf.variable(tf.zerosLike(param), false));
      slots[name] = v;
    }
    return v;
  }

  /** Updates parameter `index` from its gradient. Runs inside `tf.tidy`. */
  protected abstract update(index: number, param: tf.Variable, grad: tf.Tensor): void;

  /**
   * Applies one update from `grads`, a map from variable name to gradient (as returned by
   * `variableGrads(...).grads`). Parameters without a gradient are left unchanged. The caller keeps
   * ownership of `grads`.
   *
   * With `options.gate`, a scalar tensor (bool or number), the update is applied only where the
   * gate is nonzero, decided on the device without reading the gate back: when it is zero the
   * parameters, the optimizer's slots and its step count stay exactly as if `step` had not been
   * called. This is how a training step skips an update on a device-side condition (a GAN's
   * balance) without waiting for the device.
   */
  step(grads: Record<string, tf.Tensor>, options: OptimizerStepOptions = {}): void {
    const gate = options.gate;
    if (gate !== undefined) {
      if (!(gate instanceof tf.Tensor) || gate.size !== 1) {
        throw new ValueError(`Optimizer.step gate must be a scalar tensor (nonzero: apply the update), but got ${gate instanceof tf.Tensor ? `shape [${gate.shape}]` : String(gate)}.`);
      }
    } else this.knownSteps += 1;
    this.currentGated = gate !== undefined;
    this.stepCache = new Map();
    try {
      tf.tidy(() => {
        const on = gate === undefined ? null : tf.reshape(tf.notEqual(gate, 0), []);
        this.params.forEach((p, i) => {
          const g = grads[p.name];
          if (g === undefined || !p.trainable) return;
          if (on === null) {
            this.update(i, p, g);
            return;
          }
          // The values before the update (clones share the data, so nothing is copied); where the
          // gate is off, every variable the update touched gets its old value back (a slot the
          // update created, its initial zeros).
          const before = new Map<tf.Variable, tf.Tensor>([[p, tf.clone(p)]]);
          for (const v of Object.values(this.slotsByParam[i])) before.set(v, tf.clone(v));
          this.update(i, p, g);
          for (const v of [p, ...Object.values(this.slotsByParam[i])]) {
            v.assign(tf.where(on, v, before.get(v) ?? tf.zerosLike(v)));
          }
        });
        if (on !== null) {
          if (this.gatedApplied === null) this.gatedApplied = tf.tidy(() => tf.variable(tf.scalar(0), false));
          this.gatedApplied.assign(tf.add(this.gatedApplied, tf.cast(on, 'float32')));
        }
      });
    } finally {
      this.stepCache = null;
    }
    if (gate !== undefined) this.gatedCalls += 1;
  }

  /**
   * Computes `lossFn`, backpropagates into this optimizer's parameters and applies one step.
   * Returns the loss (a scalar the caller owns and must dispose).
   */
  minimize(lossFn: () => tf.Scalar): tf.Scalar {
    const trainable = this.params.filter((p) => p.trainable);
    const { value, grads } = variableGrads(lossFn, trainable);
    try {
      this.step(grads);
    } finally {
      tf.dispose(grads);
    }
    return value;
  }

  /** A snapshot of the optimizer for a checkpoint (the slot tensors are the live variables). */
  getState(): OptimizerState {
    const slots: Record<string, tf.Tensor> = {};
    this.slotsByParam.forEach((s, i) => {
      for (const [name, v] of Object.entries(s)) slots[`${i}.${name}`] = v;
    });
    return { kind: this.constructor.name, stepCount: this.stepCount, lr: this.lr, slots };
  }

  /** Restores a snapshot from {@link Optimizer.getState}; the tensors are copied. */
  setState(state: OptimizerState): void {
    if (state.kind !== this.constructor.name) {
      throw new ValueError(`Optimizer state is for ${state.kind}, but this optimizer is ${this.constructor.name}.`);
    }
    for (const [key, t] of Object.entries(state.slots)) {
      const dot = key.indexOf('.');
      const index = Number(key.slice(0, dot));
      const name = key.slice(dot + 1);
      if (!Number.isInteger(index) || index < 0 || index >= this.params.length) {
        throw new ValueError(`Optimizer state has slot '${key}' for parameter ${index}, but this optimizer has ${this.params.length} parameters.`);
      }
      const target = this.slot(index, name);
      if (target.shape.join(',') !== t.shape.join(',')) {
        throw new ValueError(`Optimizer slot '${key}' has shape [${t.shape}] but parameter ${index} has shape [${target.shape}].`);
      }
      target.assign(t);
    }
    this.stepCount = state.stepCount;
    this.lr = state.lr;
  }

  /** Frees every slot tensor (not the parameters). */
  dispose(): void {
    this.dropGated();
    for (const s of this.slotsByParam) {
      for (const v of Object.values(s)) v.dispose();
      for (const k of Object.keys(s)) delete s[k];
    }
  }
}
