import * as tf from '@tensorflow/tfjs-core';

/**
 * Batch statistics of one training-mode BatchNorm call, returned beside the output so that the
 * layer can update its running averages without computing them a second time. The caller owns
 * both tensors (they live outside any `tf.tidy`) and must dispose them.
 */
export type BatchNormTrainStats = {
  /** Per-channel batch mean, `[C]`. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance, `[C]`. */
  variance: tf.Tensor1D;
};

// Per-channel sums over every position of a [M, C] matrix, kept as [1, C]. A reduction over the
// leading axis: medvae's wasm Sum kernel (src/backend/wasm/sum.ts) adds rows without the transpose
// the stock kernel makes. (A [1, M]×[M, C] product with a row of ones, as GroupNorm uses, took most
// of the step on wasm + medvae-native here: 3.4 s of a 7.1 s step at 16×64×64.)
function columnSums(x2: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(x2, 0, true);
}

/**
 * Training-mode batch normalisation over the last axis, `y = (x − μ)/√(σ² + eps)·weight + bias`
 * with μ, σ² the batch mean and biased variance over every other axis, as one `tf.customGrad`
 * whose backward pass is the closed form
 *
 *   dx = weight/√(σ² + eps) · (dy − mean(dy) − x̂·mean(dy·x̂)),  dweight = Σ dy·x̂,  dbias = Σ dy
 *
 * (x̂ the normalised input, means and sums over positions per channel), instead of tfjs's
 * automatic gradient of the composition, which runs about three times as many whole-tensor
 * kernels. Forward and gradients equal the composition `tf.moments` + normalise to rounding (see
 * test/backend/batchnorm-train.test.ts). `weight`/`bias` may be null (no affine).
 */
export function batchNormTrain(
  x: tf.Tensor,
  weight: tf.Tensor1D | null,
  bias: tf.Tensor1D | null,
  eps: number,
): { y: tf.Tensor; stats: BatchNormTrainStats } {
  const c = x.shape[x.rank - 1];
  const m = x.size / c;
  let stats: BatchNormTrainStats | null = null;
  const w = weight ?? tf.ones([c]);
  const b = bias ?? tf.zeros([c]);
  // x̂ and 1/σ as functions of x: the backward recomputes them from the saved input rather than
  // saving them, which keeps its result differentiable in x (second derivatives for gradient
  // penalties stay right) and keeps no extra activation alive between forward and backward.
  const normalise = (xin: tf.Tensor): { xhat: tf.Tensor2D; rstd: tf.Tensor2D; mean: tf.Tensor2D; variance: tf.Tensor2D } => {
    const x2 = tf.reshape(xin, [m, c]) as tf.Tensor2D;
    const mean = tf.div(columnSums(x2), m) as tf.Tensor2D;
    const centred = tf.sub(x2, mean) as tf.Tensor2D;
    const variance = tf.div(columnSums(tf.square(centred) as tf.Tensor2D), m) as tf.Tensor2D;
    const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor2D;
    return { xhat: tf.mul(centred, rstd), rstd, mean, variance };
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xin, win, bin, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const { xhat, mean, variance } = normalise(xin);
    stats = { mean: tf.keep(tf.reshape(mean, [c])), variance: tf.keep(tf.reshape(variance, [c])) };
    save([xin, win]);
    return {
      value: tf.reshape(tf.add(tf.mul(xhat, win), bin), xin.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x0, wt] = saved as [tf.Tensor, tf.Tensor1D];
        const { xhat: xh, rstd: rs } = normalise(x0);
        const dy2 = tf.reshape(dy, [m, c]) as tf.Tensor2D;
        const sumDy = columnSums(dy2);
        const sumDyXhat = columnSums(tf.mul(dy2, xh) as tf.Tensor2D);
        const inner = tf.sub(tf.sub(dy2, tf.div(sumDy, m)), tf.mul(xh, tf.div(sumDyXhat, m)));
        const dx = tf.reshape(tf.mul(inner, tf.mul(rs, wt)), dy.shape);
        return [dx, tf.reshape(sumDyXhat, [c]), tf.reshape(sumDy, [c])];
      },
    };
  });
  let y: tf.Tensor;
  try {
    y = op(x, w, b);
  } finally {
    if (weight === null) w.dispose();
    if (bias === null) b.dispose();
  }
  return { y, stats: stats as unknown as BatchNormTrainStats };
}
