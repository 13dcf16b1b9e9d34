import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdversarialSegmenter, BatchNormNd, ConvNormAct, DCGAN, Generator, UNetSegmenter, VAE, VAEGAN, ValueError, loadModel, torchExportSpec, type AnyModule,
} from '../../src/index.js';
import { expectClose, setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));
const root = mkdtempSync(join(tmpdir(), 'medvae-bn-options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function batchNorms(model: AnyModule): BatchNormNd[] {
  return model.modules().filter((m): m is BatchNormNd => m instanceof BatchNormNd);
}

const settings = { momentum: 0.3, eps: 1e-3 };

describe('BatchNorm momentum and eps through the model options', () => {
  it('follow PyTorch: running = (1 - momentum)·running + momentum·batch (unbiased variance), y = (x - mean)/sqrt(var + eps)', () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], batchNorm: settings, seed: 0 });
    const unit = model.net.encoders.at(0).modules().find((m): m is ConvNormAct => m instanceof ConvNormAct) as ConvNormAct;
    const bn = unit.norm as BatchNormNd;
    expect([bn.momentum, bn.eps]).toEqual([0.3, 1e-3]);
    const x = new Generator(1).normal([3, 8, 8, 1]);
    // Closed form from the conv output the norm sees: per-channel batch mean and unbiased variance.
    const h = unit.conv.forward(x);
    const flat = tf.reshape(h, [-1, 4]);
    const { mean, variance } = tf.moments(flat, 0);
    const count = flat.shape[0];
    const unbiased = tf.mul(variance, count / (count - 1));
    const expectedMean = tf.mul(mean, 0.3); // running mean starts at 0
    const expectedVar = tf.add(tf.mul(tf.onesLike(unbiased), 0.7), tf.mul(unbiased, 0.3)); // running var starts at 1
    model.train();
    tf.dispose(model.forward(x));
    expectClose(bn.runningMean!.dataSync(), expectedMean.dataSync(), 1e-5, 1e-6, 'running mean');
    expectClose(bn.runningVar!.dataSync(), expectedVar.dataSync(), 1e-5, 1e-6, 'running var');
    // A default-momentum model moves its statistics by 0.1 instead: the option changes the result.
    const plain = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
    plain.train();
    tf.dispose(plain.forward(x));
    const plainBn = batchNorms(plain)[0];
    expectClose(plainBn.runningMean!.dataSync(), tf.mul(mean, 0.1).dataSync(), 1e-5, 1e-6, 'default running mean');
    // Evaluation mode uses eps as given.
    bn.eval();
    const y = bn.forward(h);
    const expectedY = tf.div(tf.sub(h, bn.runningMean!), tf.sqrt(tf.add(bn.runningVar!, 1e-3)));
    expectClose(y.dataSync(), expectedY.dataSync(), 1e-5, 1e-6, 'eval output');
    tf.dispose([x, h, flat, mean, variance, unbiased, expectedMean, expectedVar, y, expectedY]);
    model.dispose();
    plain.dispose();
  });

  const models: [string, () => AnyModule & { save(t: string): Promise<void> }][] = [
    ['UNetSegmenter', () => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], batchNorm: settings, seed: 0 })],
    ['AdversarialSegmenter', () => new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8], discriminatorNorm: 'batch', batchNorm: settings, seed: 0 })],
    ['VAE', () => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4, 8], batchNorm: settings, seed: 0 })],
    ['VAEGAN', () => new VAEGAN({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4, 8], discriminatorChannels: [4, 8], batchNorm: settings, seed: 0 })],
    ['DCGAN', () => new DCGAN({ latentDim: 4, imageSize: 8, generatorChannels: [8, 4], discriminatorChannels: [4, 8], discriminatorNorm: 'batch', batchNorm: settings, seed: 0 })],
  ];
  for (const [name, build] of models) {
    it(`${name}: every BatchNorm takes them, and save/load keeps them`, async () => {
      const model = build();
      const layers = batchNorms(model);
      expect(layers.length).toBeGreaterThan(1);
      for (const l of layers) expect([l.momentum, l.eps]).toEqual([0.3, 1e-3]);
      const dir = join(root, name);
      await model.save(dir);
      const loaded = await loadModel(dir);
      const loadedLayers = batchNorms(loaded);
      expect(loadedLayers.length).toBe(layers.length);
      for (const l of loadedLayers) expect([l.momentum, l.eps]).toEqual([0.3, 1e-3]);
      loaded.dispose();
      model.dispose();
    });
  }

  it('exportTorch refuses non-default settings (the PyTorch side builds default BatchNorms)', () => {
    const model = new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4], batchNorm: settings, seed: 0 });
    expect(() => torchExportSpec(model)).toThrow(ValueError);
    model.dispose();
  });
});
