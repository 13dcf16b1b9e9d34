import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MonaiBasicUNet, ValueError, loadSafetensors, loadTorchExport, loadTorchStateDict, type MonaiBasicUNetOptions } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';
import { compareWithTorch } from './torch-compare.js';

// State dicts and outputs written by MONAI 1.5.0's own BasicUNet (gen_monai_basic_unet.py).
const fixtures = fileURLToPath(new URL('../fixtures/io/torch/monai/', import.meta.url));
const VARIANTS = ['basic-unet-default', 'basic-unet-batch-relu'];

beforeAll(() => setupBackend('cpu'));

describe('MonaiBasicUNet: MONAI BasicUNet state dicts load as they are', () => {
  for (const name of VARIANTS) {
    it(`${name}: loadTorchStateDict of MONAI's state dict reproduces MONAI's outputs (incl. UpCat padding) to 1e-5`, async () => {
      const dir = join(fixtures, name);
      const { config } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { config: MonaiBasicUNetOptions };
      const { tensors: io } = await loadSafetensors(join(dir, 'io.safetensors'));
      const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
      const net = new MonaiBasicUNet({ ...config, seed: 0 });
      expect(net.config).toEqual(config);
      const before = tf.memory().numTensors;
      loadTorchStateDict(net, tensors); // strict: every MONAI key used, every medvae key found
      net.eval();
      const worst = compareWithTorch(net, io, 'output', name);
      expect(tf.memory().numTensors).toBe(before);
      console.log(`${name}: worst relative error ${worst.toExponential(2)} against MONAI`);
      // The same directory is a medvae torch export too.
      const loaded = await loadTorchExport(dir);
      loaded.eval();
      compareWithTorch(loaded, io, 'output', `${name} via loadTorchExport`);
      tf.dispose([...Object.values(io), ...Object.values(tensors)]);
      net.dispose();
      loaded.dispose();
    });
  }

  it('names MONAI\'s keys and rejects options MONAI would not build', () => {
    const net = new MonaiBasicUNet({ features: [4, 4, 8, 8, 16, 4], seed: 0 });
    const keys = Object.keys(net.stateDict());
    expect(keys).toContain('conv_0.conv_0.conv.weight');
    expect(keys).toContain('conv_0.conv_0.adn.N.weight');
    expect(keys).toContain('down_4.convs.conv_1.adn.N.bias');
    expect(keys).toContain('upcat_1.upsample.deconv.weight');
    expect(keys).toContain('final_conv.bias');
    expect(() => new MonaiBasicUNet({ features: [4, 4, 8] })).toThrow(ValueError);
    expect(() => new MonaiBasicUNet({ norm: 'group', groups: 3, features: [4, 4, 8, 8, 16, 4] })).toThrow(/groups \(3\) must divide every width/);
    expect(() => net.forward(tf.zeros([1, 8, 8, 1]))).toThrow(/at least 16×16/);
    net.dispose();
  });
});
