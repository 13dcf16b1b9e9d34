// Shared by the PyTorch export tests: run a medvae model on the inputs PyTorch saw (NCHW in the
// fixture, NHWC for medvae) and compare with PyTorch's outputs.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { DCGAN, DDPM, VAE, type TorchExportable } from '../../src/index.js';

/** Channels first → channels last (NCHW → NHWC, NCDHW → NDHWC); other ranks unchanged (a new tensor either way). */
export function toNhwc(t: tf.Tensor): tf.Tensor {
  if (t.rank === 4) return tf.transpose(t, [0, 2, 3, 1]);
  if (t.rank === 5) return tf.transpose(t, [0, 2, 3, 4, 1]);
  return t.clone();
}

/** Named outputs of medvae's model for the inputs `inputs` (NHWC), as the fixture names them. */
export function runMedvae(model: TorchExportable, inputs: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  if (model instanceof VAE) {
    const out = model.forward(inputs.x);
    out.z.dispose();
    return { recon: out.recon, mu: out.mu, logVar: out.logVar };
  }
  if (model instanceof DCGAN) {
    const images = model.forward(inputs.z);
    return { images, logits: model.discriminator.forward(images) };
  }
  if (model instanceof DDPM) {
    const labels = tf.cast(inputs.class_labels, 'int32');
    try {
      return { y: model.forward({ x: inputs.x, timesteps: inputs.timesteps, classLabels: labels }) };
    } finally {
      labels.dispose();
    }
  }
  return { y: (model as { forward(x: tf.Tensor): tf.Tensor }).forward(inputs.x) };
}

/**
 * Largest |medvae − torch| over the largest |torch|, per output: the relative error the export
 * promises to keep at most 1e-5.
 */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
    const scale = tf.max(tf.abs(expected)).dataSync()[0];
    return diff / Math.max(scale, 1e-12);
  });
}

/**
 * Runs `model` (eval mode) on every `input<s>.*` group of `io` and checks each `<prefix><s>.*`
 * output to 1e-5 relative. Returns the worst relative error seen.
 */
export function compareWithTorch(model: TorchExportable, io: Record<string, tf.Tensor>, prefix: 'output' | 'trained', what: string): number {
  let worst = 0;
  for (let s = 0; `input${s}.${firstInputName(io)}` in io; s++) {
    const inputs: Record<string, tf.Tensor> = {};
    for (const [key, t] of Object.entries(io)) if (key.startsWith(`input${s}.`)) inputs[key.slice(`input${s}.`.length)] = toNhwc(t);
    const outputs = runMedvae(model, inputs);
    try {
      for (const [name, got] of Object.entries(outputs)) {
        const ref = io[`${prefix}${s}.${name}`];
        expect(ref, `${what}: fixture has ${prefix}${s}.${name}`).toBeDefined();
        const want = toNhwc(ref);
        expect(got.shape, `${what} ${prefix}${s}.${name} shape`).toEqual(want.shape);
        const err = relativeError(got, want);
        want.dispose();
        expect(err, `${what} ${prefix}${s}.${name}: relative error`).toBeLessThanOrEqual(1e-5);
        worst = Math.max(worst, err);
      }
    } finally {
      tf.dispose([...Object.values(inputs), ...Object.values(outputs)]);
    }
  }
  return worst;
}

function firstInputName(io: Record<string, tf.Tensor>): string {
  const key = Object.keys(io).find((k) => k.startsWith('input0.'));
  if (key === undefined) throw new Error('fixture has no input0.* tensors');
  return key.slice('input0.'.length);
}
