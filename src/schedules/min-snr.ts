import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { PREDICTION_TYPES, type PredictionType, type TimestepsLike } from './scheduler-base.js';

/** Options of {@link minSnrLossWeights}. */
export interface MinSnrOptions {
  /** γ, the SNR cap; the paper's default 5. */
  gamma?: number;
  /** The training target the loss is on; it changes how the capped SNR is normalised. Default `'epsilon'`. */
  predictionType?: PredictionType;
}

/**
 * Per-sample loss weights of Min-SNR-γ weighting (Hang et al. 2023, "Efficient Diffusion Training
 * via Min-SNR Weighting Strategy"), as in diffusers' training scripts: low-noise timesteps, whose
 * SNR is huge, stop dominating the gradient.
 *
 * - `'sample'` (x₀ loss): min(SNR, γ)
 * - `'epsilon'` (ε loss, which is x₀ loss divided by SNR): min(SNR, γ)/SNR, taken as 1 where
 *   SNR ≤ γ, so a zero-terminal-SNR timestep gets weight 1 rather than 0/0
 * - `'v_prediction'`: min(SNR, γ)/(SNR + 1)
 *
 * Multiply each sample's mean loss by its weight.
 *
 * @param timesteps - the training timesteps of the batch, integers indexing `snr`.
 * @param snr - SNR per timestep, e.g. `scheduler.terms.snr`.
 * @returns a float32 tensor of shape [batch].
 */
export function minSnrLossWeights(timesteps: TimestepsLike, snr: ArrayLike<number>, options: MinSnrOptions = {}): tf.Tensor1D {
  const { gamma = 5, predictionType = 'epsilon' } = options;
  if (!(gamma > 0)) throw new ValueError(`minSnrLossWeights: gamma must be > 0, but got ${gamma}.`);
  if (!PREDICTION_TYPES.includes(predictionType)) {
    throw new ValueError(
      `minSnrLossWeights: unknown predictionType ${JSON.stringify(predictionType)}. Use one of ${PREDICTION_TYPES.map((p) => `'${p}'`).join(', ')}.`,
    );
  }
  let ts: number[];
  if (timesteps instanceof tf.Tensor) {
    if (timesteps.rank > 1) throw new ShapeError(`minSnrLossWeights: timesteps must be 0-D or 1-D, but got shape ${formatShape(timesteps.shape)}.`);
    ts = Array.from(timesteps.dataSync());
  } else {
    ts = typeof timesteps === 'number' ? [timesteps] : Array.from(timesteps);
  }
  const out = new Float32Array(ts.length);
  ts.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= snr.length) {
      throw new ValueError(`minSnrLossWeights: timestep ${t} is out of range; it must be an integer in [0, ${snr.length - 1}] to index snr.`);
    }
    const s = snr[t];
    if (!(s >= 0)) throw new ValueError(`minSnrLossWeights: snr[${t}] = ${s}; an SNR must be ≥ 0.`);
    const capped = Math.min(s, gamma);
    if (predictionType === 'sample') out[i] = capped;
    else if (predictionType === 'v_prediction') out[i] = capped / (s + 1);
    else out[i] = s <= gamma ? 1 : gamma / s;
  });
  return tf.tensor1d(out, 'float32');
}
