import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Optimizer } from './optimizer.js';

/** Options of {@link SGD}, as `torch.optim.SGD`. */
export interface SGDOptions {
  /** Learning rate. Default 1e-2. */
  lr?: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Dampening for momentum. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
}

/** Stochastic gradient descent with optional momentum, Nesterov and weight decay, exactly as `torch.optim.SGD`. */
export class SGD extends Optimizer {
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly weightDecay: number;
  private readonly nesterov: boolean;

  constructor(params: readonly tf.Variable[], options: SGDOptions = {}) {
    super(params, options.lr ?? 1e-2);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueError('Nesterov momentum requires momentum > 0 and dampening = 0.');
    }
  }

  protected update(index: number, param: tf.Variable, grad: tf.Tensor): void {
    let d = this.weightDecay !== 0 ? tf.add(grad, tf.mul(param, this.weightDecay)) : grad;
    if (this.momentum !== 0) {
      const buf = this.slot(index, 'momentum_buffer');
      // PyTorch initialises the buffer with the first gradient (no dampening on step 1).
      const first = this.stepValue('first', (t) => (t === 1 ? 1 : 0));
      const blended = (): tf.Tensor => tf.add(tf.mul(buf, this.momentum), tf.mul(d, 1 - this.dampening));
      const next = typeof first === 'number' ? (first === 1 ? d : blended()) : tf.where(tf.cast(first, 'bool'), d, blended());
      buf.assign(next);
      d = this.nesterov ? tf.add(d, tf.mul(next, this.momentum)) : next;
    }
    param.assign(tf.sub(param, tf.mul(d, this.lr)));
  }
}
