import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { StateDictError, UNet, loadSafetensors, loadTorchStateDict, toTorchStateDict } from '../../src/index.js';
import { expectClose, setupBackend } from '../helpers/tf.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/io/torch_unet.json', import.meta.url), 'utf8')) as {
  config: { inChannels: number; outChannels: number; channels: number[] };
  inputShape: number[]; input: number[]; outputShape: number[]; output: number[];
};
const file = new URL('../fixtures/io/torch_unet.safetensors', import.meta.url).pathname;

beforeAll(() => setupBackend('cpu'));

describe('PyTorch U-Net weights', () => {
  it('load from safetensors (NCHW) into medvae (NHWC) and reproduce PyTorch outputs to 1e-4', async () => {
    const { tensors } = await loadSafetensors(file);
    const net = new UNet({ ...fx.config, seed: 0 });
    loadTorchStateDict(net, tensors);
    net.eval();
    const x = tf.tensor(fx.input, fx.inputShape);
    const y = net.forward(x);
    expect(y.shape).toEqual(fx.outputShape);
    expectClose(y.dataSync(), fx.output, 1e-4, 1e-5, 'U-Net output');

    // And back: exporting gives PyTorch's tensors again.
    const back = toTorchStateDict(net);
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k].shape, k).toEqual(t.shape);
      expectClose(back[k].dataSync(), t.dataSync(), 0, 0, k);
    }
    tf.dispose([x, y, ...Object.values(tensors), ...Object.values(back)]);
    net.dispose();
  });

  it('names missing and unexpected keys when the architecture differs', async () => {
    const { tensors } = await loadSafetensors(file);
    const net = new UNet({ ...fx.config, channels: [4, 8], seed: 0 });
    expect(() => loadTorchStateDict(net, tensors)).toThrow(StateDictError);
    expect(() => loadTorchStateDict(net, tensors)).toThrow(/unexpected keys: .*encoders\.2\./);
    tf.dispose(Object.values(tensors));
    net.dispose();
  });
});
