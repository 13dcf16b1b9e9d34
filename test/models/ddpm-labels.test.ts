// A class-conditional DDPM's training labels are checked on the device (no read-back in the step):
// a bad label still stops fit with the ValueError the read-back check gave, value included, now
// also naming the step it was found at.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArrayDataset, DDPM, ValueError, type Batch } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';
import { binaryRects } from './vae-helpers.js';

beforeAll(() => setupBackend('cpu'));

const TINY = { inChannels: 1, channels: [4, 8], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, normNumGroups: 4, numClassEmbeds: 3, seed: 0 };

function batches(labels: number[][], dtype: 'int32' | 'float32'): Batch[] {
  return labels.map((l) => ({ image: tf.zeros([l.length, 8, 8, 1]) as tf.Tensor4D, label: tf.tensor1d(l, dtype) }));
}

describe('DDPM.fit class labels (checked on the device)', () => {
  it('a label outside [-1, numClasses) stops the run with its value and step', async () => {
    const model = new DDPM(TINY);
    for (const [bad, dtype] of [[3, 'int32'], [-2, 'int32'], [1.5, 'float32'], [NaN, 'float32']] as const) {
      const data = batches([[0, 1], [2, bad], [1, 1]], dtype);
      const err = await model.fit(data, { epochs: 1, onProgress: 'none', emaDecay: null }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValueError);
      expect((err as Error).message).toContain(`classLabels must be integers in [-1, 2] (−1 = unconditional), but got ${bad}.`);
      expect((err as Error).message).toContain('epoch 1, batch 2 (global step 2)');
      tf.dispose(data.flatMap((b) => [b.image, b.label as tf.Tensor]));
    }
    model.dispose();
  });

  it('labels -1 (unconditional) and float labels holding integers train as before', async () => {
    const model = new DDPM(TINY);
    const data = batches([[0, -1], [2, 1]], 'float32');
    const before = tf.memory().numTensors;
    const result = await model.fit(data, { epochs: 1, onProgress: 'none', emaDecay: null });
    expect(Number.isFinite(result.history[0].train.loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(data.flatMap((b) => [b.image, b.label as tf.Tensor]));
    model.dispose();
  });

  it('class dropout draws one number per label from the run generator, as the host-side version did', async () => {
    // Dropout replaces labels by -1; with probability 1 every label is dropped, so a conditional fit
    // equals one on labels that are all -1 (same draws, same weights).
    const data = new ArrayDataset(binaryRects(4, 8, 1, (i) => i % 3));
    const unlabelled = new ArrayDataset(binaryRects(4, 8, 1, () => -1));
    const a = new DDPM(TINY);
    const b = new DDPM(TINY);
    await a.fit(data, { epochs: 1, batchSize: 2, onProgress: 'none', emaDecay: null, classDropoutProb: 1 });
    // Probability 1 still draws (and so advances the generator); match it with a probability that
    // never drops on the all -1 labels.
    await b.fit(unlabelled, { epochs: 1, batchSize: 2, onProgress: 'none', emaDecay: null, classDropoutProb: 1e-300 });
    const pa = a.namedParameters();
    const pb = b.namedParameters();
    pa.forEach(([n, p], i) => expect(Array.from(p.dataSync()), n).toEqual(Array.from(pb[i][1].dataSync())));
    a.dispose();
    b.dispose();
  });
});
