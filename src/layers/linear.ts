import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { pytorchDefaultInit } from '../core/init.js';
import { Module } from '../core/module.js';
import type { SeedLike } from '../core/random.js';
import { assertFloat, formatShape } from '../core/shape.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Whether to add a learnable bias. Default true. */
  bias?: boolean;
  /** Seed or generator for the default initialisation (global generator when omitted). */
  seed?: SeedLike;
}

/**
 * Fully connected layer `y = x·W + b` on the last axis, as `torch.nn.Linear`. Any leading axes are
 * kept: `[..., inFeatures] → [..., outFeatures]`.
 *
 * Parameters: `weight` of shape `[inFeatures, outFeatures]`, which is the **transpose** of
 * PyTorch's `[out_features, in_features]` (so the forward pass is a plain matMul; transpose a
 * PyTorch weight with `.t()` when porting), and `bias` of shape `[outFeatures]`. Initialisation is
 * PyTorch's default: Kaiming-uniform with a = √5 (bound 1/√inFeatures) and bias U(±1/√inFeatures).
 *
 * @example
 * ```ts
 * const fc = new Linear(784, 128, { seed: 0 });
 * fc.forward(tf.zeros([32, 784])).shape; // [32, 128]
 * ```
 */
export class Linear extends Module<tf.Tensor, tf.Tensor> {
  /** Size of the input's last axis. */
  readonly inFeatures: number;
  /** Size of the output's last axis. */
  readonly outFeatures: number;
  /** Weight `[inFeatures, outFeatures]` (PyTorch's transposed). */
  readonly weight: tf.Variable;
  /** Bias `[outFeatures]`, or null when built with `bias: false`. */
  readonly bias: tf.Variable | null;

  /**
   * @param inFeatures - size of the input's last axis.
   * @param outFeatures - size of the output's last axis.
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`Linear: ${name} must be a positive integer, but got ${v}.`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const init = pytorchDefaultInit([inFeatures, outFeatures], options.bias === false ? null : [outFeatures], inFeatures, options.seed);
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias ? this.registerParameter('bias', init.bias) : null;
  }

  /** Maps `[..., inFeatures]` to `[..., outFeatures]`. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear input: features (last axis) must be ${this.inFeatures}, but got shape ${formatShape(x.shape)}. ` +
          (x.rank > 1 ? 'Flatten image batches first (e.g. with Flatten) or check inFeatures.' : 'Give a tensor of shape [..., inFeatures].'),
      );
    }
    assertFloat(x, 'Linear input');
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    return tf.tidy(() => {
      let y: tf.Tensor = tf.matMul(tf.reshape(x, [rows, this.inFeatures]), this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }

  /** PyTorch-style summary, e.g. `inFeatures=784, outFeatures=128, bias=true`. */
  /** PyTorch stores `weight` as `[out, in]`; medvae as `[in, out]`. */
  override torchLayout(name: string): readonly number[] | null {
    return name === 'weight' ? [1, 0] : null;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
