import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Optimizer } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW}, as `torch.optim.Adam` / `AdamW`. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Coefficients of the running averages of the gradient and its square. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator for stability. Default 1e-8. */
  eps?: number;
  /** Weight decay: L2 added to the gradient for Adam, decoupled decay for AdamW (default 0 / 1e-2). */
  weightDecay?: number;
  /** Use the AMSGrad variant (maximum of past squared-gradient averages). Default false. */
  amsgrad?: boolean;
}

/**
 * Adam (Kingma & Ba, 2015), exactly as `torch.optim.Adam`: bias-corrected moments,
 * update = lr · m̂ / (√v̂ + eps), with optional L2 weight decay and AMSGrad.
 */
export class Adam extends Optimizer {
  /** Decay of the first-moment (gradient) average. */
  protected readonly beta1: number;
  /** Decay of the second-moment (squared gradient) average. */
  protected readonly beta2: number;
  /** Added to the denominator for stability. */
  protected readonly eps: number;
  /** Weight decay (L2 for Adam, decoupled for AdamW). */
  protected readonly weightDecay: number;
  /** Whether the AMSGrad maximum of second moments is used. */
  protected readonly amsgrad: boolean;
  /** True for AdamW: weight decay is applied to the parameter, not added to the gradient. */
  protected readonly decoupled: boolean = false;

  constructor(params: readonly tf.Variable[], options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? this.defaultWeightDecay();
    this.amsgrad = options.amsgrad ?? false;
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new ValueError(`Adam betas must be in [0, 1), but got [${this.beta1}, ${this.beta2}].`);
    }
  }

  /** Default weight decay: 0 for Adam, 1e-2 for AdamW (as PyTorch). */
  protected defaultWeightDecay(): number {
    return 0;
  }

  protected update(index: number, param: tf.Variable, grad: tf.Tensor): void {
    let g = grad;
    if (this.weightDecay !== 0) {
      if (this.decoupled) param.assign(tf.mul(param, 1 - this.lr * this.weightDecay));
      else g = tf.add(g, tf.mul(param, this.weightDecay));
    }
    const m = this.slot(index, 'exp_avg');
    const v = this.slot(index, 'exp_avg_sq');
    m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
    v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
    // Bias corrections of step t, in float64 on the host as torch computes them (a device-side
    // pick of the same float32 values when gated steps leave t open).
    const lrOverBc1 = this.stepValue('lr/bc1', (t) => this.lr / (1 - this.beta1 ** t));
    const sqrtBc2 = this.stepValue('sqrt(bc2)', (t) => Math.sqrt(1 - this.beta2 ** t));
    let vUsed: tf.Tensor = v;
    if (this.amsgrad) {
      const vMax = this.slot(index, 'max_exp_avg_sq');
      vMax.assign(tf.maximum(vMax, v));
      vUsed = vMax;
    }
    const denom = tf.add(tf.div(tf.sqrt(vUsed), sqrtBc2), this.eps);
    param.assign(tf.sub(param, tf.mul(tf.div(m, denom), lrOverBc1)));
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019), exactly as `torch.optim.AdamW`: Adam with weight decay
 * decoupled from the gradient (param ← param · (1 − lr·weightDecay) before the Adam update).
 * Default weight decay 1e-2.
 */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  protected override defaultWeightDecay(): number {
    return 1e-2;
  }
}
