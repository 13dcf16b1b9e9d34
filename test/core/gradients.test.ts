// medvae's variableGrads against tfjs-core's own: identical numbers (same kernels, same order), a
// lower memory peak, no leaks, and a clean engine after errors. The reference is tf.variableGrads
// itself, run on the same model and input right after.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDPM, UNet, VAE, ValueError, gradientPenalty, mse, leanBackwardAvailable, variableGrads } from '../../src/index.js';
import { expectNoLeak, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

type Loss = () => tf.Scalar;

/**
 * Runs both gradient functions on `loss` (calling `reset` before each, to rewind any random stream
 * the loss draws from) and asserts the value and every gradient are bit-identical. */
function expectSameAsStock(loss: Loss, vars: tf.Variable[], reset: () => void = () => {}): void {
  reset();
  const ours = variableGrads(loss, vars);
  reset();
  const stock = tf.variableGrads(loss, vars);
  try {
    expect(Array.from(ours.value.dataSync())).toEqual(Array.from(stock.value.dataSync()));
    const stockNames = Object.entries(stock.grads).filter(([, g]) => g !== null).map(([n]) => n);
    expect(Object.keys(ours.grads).sort()).toEqual(stockNames.sort());
    expect(stockNames.length).toBeGreaterThan(0);
    for (const name of stockNames) {
      expect(Array.from(ours.grads[name].dataSync()), name).toEqual(Array.from((stock.grads[name] as tf.Tensor).dataSync()));
    }
  } finally {
    tf.dispose([ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads).filter((g): g is tf.Tensor => g !== null)]);
  }
}

function tapeState(): { activeTape: unknown; gradientDepth: number } {
  return (tf.engine() as unknown as { state: { activeTape: unknown; gradientDepth: number } }).state;
}

describe('variableGrads', () => {
  it('uses the memory-lean path on this tfjs-core', () => {
    expect(leanBackwardAvailable()).toBe(true);
  });

  it('equals tf.variableGrads bit for bit on a U-Net with batch norm, max pooling, skips and transposed convs', () => {
    const net = new UNet({ inChannels: 1, outChannels: 2, channels: [4, 8, 16], seed: 0 });
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 1);
    const y = tf.randomUniform([2, 16, 16, 2], 0, 1, 'float32', 2);
    expectSameAsStock(() => mse(net.forward(x), y) as tf.Scalar, net.trainableParameters());
    net.dispose();
    tf.dispose([x, y]);
  });

  it('equals tf.variableGrads on a DDPM loss (group norm custom gradient, attention, time embedding)', () => {
    const ddpm = new DDPM({ inChannels: 1, channels: [8, 16], attentionLevels: [1], layersPerBlock: 1, numTrainTimesteps: 50, sampleSize: 8, seed: 0 });
    const x0 = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 3);
    expectSameAsStock(() => ddpm.trainingLoss(x0, { seed: 7 }), ddpm.unet.trainableParameters());
    ddpm.dispose();
    x0.dispose();
  });

  it('equals tf.variableGrads on a VAE ELBO (reparameterised sampling)', () => {
    const vae = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 0 });
    const x = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 4);
    const noise = vae.noiseGenerator.getState();
    expectSameAsStock(() => vae.loss(x).loss, vae.trainableParameters(), () => vae.noiseGenerator.setState(noise));
    vae.dispose();
    x.dispose();
  });

  it('handles a gradient that passes dy through to several inputs, and a variable used twice', () => {
    const a = tf.variable(tf.tensor1d([1, -2, 3]), true, 'gradtest_a');
    const b = tf.variable(tf.tensor1d([0.5, 0.25, -1]), true, 'gradtest_b');
    // Custom op whose gradient hands the same dy tensor object to both inputs.
    const passThrough = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [p, q] = args as [tf.Tensor, tf.Tensor];
      return { value: tf.add(p, q), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [dy as tf.Tensor, dy as tf.Tensor] };
    });
    const loss = (): tf.Scalar => tf.sum(tf.mul(passThrough(a, tf.mul(a, b)), tf.add(a, b)));
    expectSameAsStock(loss, [a, b]);
    const { value, grads } = variableGrads(loss, [a, b]);
    // d/da Σ (a + ab)(a + b) = (a + b)(1 + b) + (a + ab); d/db = (a + b)·a + (a + ab).
    const av = [1, -2, 3];
    const bv = [0.5, 0.25, -1];
    expect(Array.from(grads.gradtest_a.dataSync())).toEqual(av.map((x, i) => (x + bv[i]) * (1 + bv[i]) + (x + x * bv[i])).map(Math.fround));
    expect(Array.from(grads.gradtest_b.dataSync())).toEqual(av.map((x, i) => (x + bv[i]) * x + (x + x * bv[i])).map(Math.fround));
    tf.dispose([value, ...Object.values(grads), a, b]);
  });

  it('skips non-trainable variables and gives no entry to variables the loss does not use', () => {
    const w = tf.variable(tf.scalar(2), true, 'gradtest_w');
    const frozen = tf.variable(tf.scalar(3), false, 'gradtest_frozen');
    const unused = tf.variable(tf.scalar(4), true, 'gradtest_unused');
    const { value, grads } = variableGrads(() => tf.mul(tf.square(w), frozen) as tf.Scalar, [w, frozen, unused]);
    expect(Object.keys(grads)).toEqual(['gradtest_w']);
    expect(grads.gradtest_w.dataSync()[0]).toBe(12);
    expect(value.dataSync()[0]).toBe(12);
    tf.dispose([value, grads.gradtest_w, w, frozen, unused]);
  });

  it('defers to tf.variableGrads when nested, so double backprop (WGAN-GP) still matches', () => {
    const w1 = tf.variable(tf.randomNormal([3, 3, 1, 4], 0, 0.3, 'float32', 8), true, 'gradtest_c1');
    const w2 = tf.variable(tf.randomNormal([64 * 4, 1], 0, 0.1, 'float32', 9), true, 'gradtest_d');
    const critic = (x: tf.Tensor): tf.Tensor => tf.matMul(tf.reshape(tf.softplus(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same')), [x.shape[0], -1]) as tf.Tensor2D, w2 as tf.Tensor2D);
    const real = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 10);
    const fake = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 11);
    const loss = (): tf.Scalar => tf.add(tf.mean(critic(fake)), gradientPenalty(critic, real, fake, { epsilon: [0.3, 0.7] })) as tf.Scalar;
    expectSameAsStock(loss, [w1, w2]);
    // Called inside an outer recording: the inner call must leave what the outer pass needs.
    const outer = tf.variableGrads(() => {
      const inner = variableGrads(() => tf.sum(tf.square(w2)) as tf.Scalar, [w2]);
      const g = inner.grads.gradtest_d;
      return tf.sum(tf.mul(g, w2)) as tf.Scalar; // Σ 2 w2² → d/dw2 = 4 w2
    }, [w2]);
    const expected = tf.mul(w2, 4);
    expect(Array.from((outer.grads.gradtest_d as tf.Tensor).dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([outer.value, outer.grads.gradtest_d as tf.Tensor, expected, w1, w2, real, fake]);
  });

  it('peaks lower than tf.variableGrads on a conv net (saved activations and gradients freed as it goes)', async () => {
    const net = new UNet({ inChannels: 1, outChannels: 1, channels: [8, 16, 32], norm: 'batch', seed: 0 });
    const x = tf.randomNormal([4, 32, 32, 1], 0, 1, 'float32', 1);
    const y = tf.randomNormal([4, 32, 32, 1], 0, 1, 'float32', 2);
    const params = net.trainableParameters();
    const loss = (): tf.Scalar => mse(net.forward(x), y) as tf.Scalar;
    const resident = tf.memory().numBytes;
    const peakOf = async (grads: (f: Loss, v: tf.Variable[]) => { value: tf.Scalar; grads: Record<string, tf.Tensor | null> }): Promise<number> => {
      const info = await tf.profile(() => {
        const r = grads(loss, params);
        tf.dispose([r.value, ...Object.values(r.grads).filter((g): g is tf.Tensor => g !== null)]);
        return [];
      });
      return info.peakBytes - resident;
    };
    const stock = await peakOf(tf.variableGrads);
    const lean = await peakOf(variableGrads);
    const forward = await tf.profile(() => tf.tidy(() => loss()));
    (forward.result as tf.Tensor).dispose();
    const activations = forward.kernels.reduce((s, k) => s + Math.max(0, k.bytesAdded), 0);
    // Stock holds every saved activation and a gradient of each until the end: about 2× activations.
    console.log(`activations ${activations}, stock peak ${stock} (${(stock / activations).toFixed(2)}×), lean ${lean} (${(lean / activations).toFixed(2)}×)`);
    expect(stock).toBeGreaterThan(1.6 * activations);
    expect(lean).toBeLessThan(1.45 * activations);
    expect(lean).toBeLessThan(0.6 * stock);
    net.dispose();
    tf.dispose([x, y]);
  });

  it('leaves no tensor behind over repeated steps', async () => {
    const net = new UNet({ inChannels: 1, outChannels: 1, channels: [4, 8], seed: 0 });
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1);
    await expectNoLeak(() => {
      const { value, grads } = variableGrads(() => tf.mean(tf.square(net.forward(x))) as tf.Scalar, net.trainableParameters());
      tf.dispose([value, ...Object.values(grads)]);
    }, 5);
    net.dispose();
    x.dispose();
  });

  it('rejects a non-scalar result, a throwing f and an unconnected loss cleanly (no leak, engine reset)', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'gradtest_err');
    const other = tf.variable(tf.scalar(1), true, 'gradtest_other');
    const notTrainable = tf.variable(tf.zeros([]), false, 'gradtest_nt');
    const before = tf.memory().numTensors;
    expect(() => variableGrads(() => tf.mul(w, 2) as unknown as tf.Scalar, [w])).toThrow(/must return a scalar tensor.*shape \[2\]/);
    expect(() =>
      variableGrads(() => {
        tf.exp(w);
        throw new Error('boom');
      }, [w]),
    ).toThrow('boom');
    expect(() => variableGrads(() => tf.sum(tf.mul(w, 2)) as tf.Scalar, [other])).toThrow(ValueError);
    expect(() => variableGrads(() => tf.sum(w) as tf.Scalar, [notTrainable])).toThrow(/none of the 1 given is trainable/);
    // A gradient function that throws half-way through the backward pass.
    const broken = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [p, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([p]);
      return {
        value: tf.square(p),
        gradFunc: () => {
          throw new Error('gradient exploded');
        },
      };
    });
    expect(() => variableGrads(() => tf.sum(tf.exp(broken(tf.mul(w, 3)))) as tf.Scalar, [w])).toThrow('gradient exploded');
    // f returning the caller's own tensor: the error must not dispose it.
    expect(() => variableGrads(() => w as unknown as tf.Scalar, [w])).toThrow(/must return a scalar tensor/);
    expect(w.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    expect(tapeState().gradientDepth).toBe(0);
    expect(tapeState().activeTape).toBeNull();
    const { value, grads } = variableGrads(() => tf.sum(tf.square(w)) as tf.Scalar, [w]);
    expect(Array.from(grads.gradtest_err.dataSync())).toEqual([2, 4]);
    tf.dispose([value, grads.gradtest_err, w, other, notTrainable]);
  });
});
