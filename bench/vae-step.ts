// The VAE training step the benchmarks time (bench/models.ts, bench/model-steps.ts): the Bernoulli
// ELBO of one batch, its gradients, an Adam update, and a synchronous read of the loss so the step
// has finished when the timer stops. Not part of the library.
import * as tf from '@tensorflow/tfjs-core';
import { variableGrads, type Adam, type VAE } from '../src/index.js';

/** One training step of `vae` on the batch `x` with `adam` (built over `params`), freeing every tensor it made. */
export function vaeBenchStep(vae: VAE, params: tf.Variable[], adam: Adam, x: tf.Tensor4D): () => void {
  return () => {
    let rest: tf.Tensor[] = [];
    const { value, grads } = variableGrads(() => {
      const terms = vae.loss(x);
      rest = [terms.reconstruction, terms.kl];
      return terms.loss;
    }, params);
    adam.step(grads);
    tf.dispose(grads);
    value.dataSync();
    tf.dispose([value, ...rest]);
  };
}
