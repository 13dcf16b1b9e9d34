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
  /** Number of completed steps. */
  stepCount = 0;
  private readonly slotsByParam: SlotState[];

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
   */
  step(grads: Record<string, tf.Tensor>): void {
    this.stepCount += 1;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[p.name];
        if (g === undefined || !p.trainable) return;
        this.update(i, p, g);
      });
    });
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
    for (const s of this.slotsByParam) {
      for (const v of Object.values(s)) v.dispose();
      for (const k of Object.keys(s)) delete s[k];
    }
  }
}
