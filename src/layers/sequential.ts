import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';

/**
 * A chain of tensor-to-tensor modules applied in order, as `torch.nn.Sequential`. Children are
 * named `'0'`, `'1'`, ..., so parameter names read `0.weight`, `3.bias`, as in PyTorch.
 *
 * @example
 * ```ts
 * const block = new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new MaxPool2d(2), new Flatten(), new Linear(8 * 14 * 14, 10));
 * block.forward(tf.zeros([4, 28, 28, 1])).shape; // [4, 10]
 * ```
 */
export class Sequential extends Module<tf.Tensor, tf.Tensor> {
  private readonly layers: Module<tf.Tensor, tf.Tensor>[] = [];

  /** @param modules - the modules, applied first to last. */
  constructor(...modules: Module<tf.Tensor, tf.Tensor>[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `module` at the end (named by its index) and returns this container. */
  append(module: Module<tf.Tensor, tf.Tensor>): this {
    if (!(module instanceof Module)) {
      throw new ValueError(`Sequential: every entry must be a Module, but entry ${this.layers.length} is ${String(module)}.`);
    }
    this.registerModule(String(this.layers.length), module);
    this.layers.push(module);
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.layers.length;
  }

  /** The module at `index` (negative counts from the end, as `Array.prototype.at`). */
  at(index: number): Module<tf.Tensor, tf.Tensor> {
    const i = index < 0 ? index + this.layers.length : index;
    if (!Number.isInteger(index) || i < 0 || i >= this.layers.length) {
      throw new ValueError(`Sequential.at: index ${index} is out of range for a Sequential of length ${this.layers.length}.`);
    }
    return this.layers[i];
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<Module<tf.Tensor, tf.Tensor>> {
    return this.layers[Symbol.iterator]();
  }

  /** Applies every module in order; intermediate results are released. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => (this.layers.length === 0 ? tf.clone(x) : this.layers.reduce((h, m) => m.forward(h), x)));
  }
}
