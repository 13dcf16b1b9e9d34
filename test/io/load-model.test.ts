import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdversarialSegmenter, ConfigError, DCGAN, DDPM, LatentClassifier, Linear, SavableModel, UNetSegmenter, UnknownModelError, VAE, VAEGAN,
  configField, loadModel, readConfig, registerModel, registeredModels, saveModel, unregisterModel, type AnyModule,
} from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

const root = mkdtempSync(join(tmpdir(), 'medvae-load-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `m${n++}`);

// One small instance of every saved model class.
const builders: Record<string, () => AnyModule & { save(t: string): Promise<void>; config: object }> = {
  UNetSegmenter: () => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], batchNorm: { momentum: 0.3, eps: 1e-3 }, seed: 0 }),
  AdversarialSegmenter: () => new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], discriminatorChannels: [4, 8], seed: 0 }),
  VAE: () => new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], seed: 0 }),
  VAEGAN: () => new VAEGAN({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4, 8], discriminatorChannels: [4, 8], seed: 0 }),
  LatentClassifier: () => new LatentClassifier(new VAE({ inChannels: 1, imageSize: [8, 8], latentDim: 3, channels: [4], seed: 0 }), { hiddenDims: [4], standardize: true, seed: 1 }),
  DCGAN: () => new DCGAN({ latentDim: 8, imageSize: 8, generatorChannels: [8, 4], discriminatorChannels: [4, 8], seed: 0 }),
  DDPM: () => new DDPM({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, numTrainTimesteps: 20, sampleSize: 8, seed: 0 }),
};

function stateValues(m: AnyModule): Record<string, number[]> {
  return Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
}

describe('loadModel', () => {
  it('knows every saved model class by the name its save records', () => {
    expect(registeredModels()).toEqual(expect.arrayContaining(Object.keys(builders)));
  });

  for (const [name, build] of Object.entries(builders)) {
    it(`rebuilds a saved ${name} as a ${name} with its config and weights`, async () => {
      const model = build();
      const dir = freshDir();
      await model.save(dir);
      expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).modelTopology.className).toBe(name);
      const before = tf.memory().numTensors;
      const loaded = await loadModel(dir);
      expect(loaded.constructor).toBe(model.constructor);
      expect((loaded as typeof model).config).toEqual(model.config);
      expect(stateValues(loaded)).toEqual(stateValues(model));
      expect(tf.memory().numTensors - before).toBe(Object.keys(loaded.stateDict()).length);
      loaded.dispose();
      model.dispose();
    });
  }

  it('keeps the DDPM EMA copy', async () => {
    const model = builders.DDPM() as DDPM;
    model.enableEma();
    const dir = freshDir();
    await model.save(dir);
    const loaded = await loadModel(dir);
    expect(Object.keys(loaded.stateDict()).some((k) => k.startsWith('ema.'))).toBe(true);
    loaded.dispose();
    model.dispose();
  });

  it('refuses an unknown class name with a typed error listing the known ones, leaking nothing', async () => {
    const model = builders.VAE();
    const dir = freshDir();
    await model.save(dir);
    model.dispose();
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.modelTopology.className = 'ResNet9000';
    writeFileSync(file, JSON.stringify(json));
    const before = tf.memory().numTensors;
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownModelError);
    expect((err as UnknownModelError).className).toBe('ResNet9000');
    for (const known of Object.keys(builders)) expect((err as Error).message).toContain(known);
    expect((err as Error).message).toContain('registerModel');
    expect(tf.memory().numTensors).toBe(before);
  });

  // An edited model.json: each wrong field gives a ConfigError naming it, and nothing is left allocated.
  const corruptions: [string, string, (c: Record<string, unknown>) => void, string][] = [
    ['UNetSegmenter', 'channels', (c) => { c.channels = 'abc'; }, 'channels'],
    ['UNetSegmenter', 'numClasses', (c) => { delete c.numClasses; }, 'numClasses'],
    ['UNetSegmenter', 'batchNorm.momentum', (c) => { c.batchNorm = { momentum: 2 }; }, 'batchNorm.momentum'],
    ['VAE', 'imageSize', (c) => { c.imageSize = [8]; }, 'imageSize'],
    ['VAE', 'an unknown field', (c) => { c.latentDims = 3; }, 'latentDims'],
    ['DDPM', 'betaSchedule', (c) => { c.betaSchedule = 'cubic'; }, 'betaSchedule'],
    ['LatentClassifier', 'vae.latentDim', (c) => { (c.vae as Record<string, unknown>).latentDim = 0; }, 'vae.latentDim'],
    ['DCGAN', 'imageSize', (c) => { c.imageSize = [8, '8']; }, 'imageSize'],
  ];
  for (const [name, what, corrupt, field] of corruptions) {
    it(`reports a corrupted ${name} config field (${what}) as a ConfigError naming it, leaking nothing`, async () => {
      const model = builders[name]();
      const dir = freshDir();
      await model.save(dir);
      model.dispose();
      const file = join(dir, 'model.json');
      const json = JSON.parse(readFileSync(file, 'utf8'));
      corrupt(json.modelTopology.config);
      writeFileSync(file, JSON.stringify(json));
      const before = tf.memory().numTensors;
      for (const load of [() => loadModel(dir), () => (model.constructor as unknown as { load(s: string): Promise<AnyModule> }).load(dir)]) {
        const err = await load().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).field).toBe(field);
        expect((err as Error).message).toContain(`'${field}'`);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('disposes the rebuilt model when the weights do not fit the config', async () => {
    const model = builders.VAE();
    const dir = freshDir();
    await model.save(dir);
    model.dispose();
    // A config edited to another width no longer matches the saved weights: the state-dict check fails after the build.
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.modelTopology.config.latentDim = 5;
    writeFileSync(file, JSON.stringify(json));
    const before = tf.memory().numTensors;
    await expect(loadModel(dir)).rejects.toThrow(/latentDim|shape|fcMu/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads saves written before the config had its newer fields (defaults apply)', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
    const dir = freshDir();
    // What an older medvae wrote: the options as given, no batchNorm or spatialDims.
    await saveModel(model, dir, { className: 'UNetSegmenter', config: { inChannels: 1, numClasses: 2, channels: [4, 8] } });
    const loaded = await loadModel(dir);
    expect(loaded).toBeInstanceOf(UNetSegmenter);
    expect(stateValues(loaded)).toEqual(stateValues(model));
    loaded.dispose();
    model.dispose();
  });

  it('saves by the declared modelName, not the (minifiable) constructor name', async () => {
    // A bundler renames classes; a subclass without its own modelName still saves as its parent.
    const Renamed = class Xe extends VAE {};
    const model = new Renamed({ inChannels: 1, imageSize: [8, 8], latentDim: 2, channels: [4], seed: 0 });
    const dir = freshDir();
    await model.save(dir);
    const loaded = await loadModel(dir);
    expect(loaded).toBeInstanceOf(VAE);
    loaded.dispose();
    model.dispose();
  });
});

// A user's own model class, registered by name.
interface TinyNetOptions {
  features: number;
  seed?: number;
}

class TinyNet extends SavableModel {
  static override readonly modelName: string = 'TinyNet';
  readonly fc: Linear;
  private readonly features: number;

  constructor(options: TinyNetOptions) {
    super();
    this.features = options.features;
    this.fc = this.registerModule('fc', new Linear(2, options.features, { seed: options.seed }));
  }

  get config(): TinyNetOptions {
    return { features: this.features };
  }

  static fromConfig(config: Record<string, unknown>): TinyNet {
    return new TinyNet(readConfig(config, { features: configField.int(), seed: configField.optional(configField.int(0)) }, 'TinyNet config'));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.forward(x);
  }
}

describe('registerModel', () => {
  it('lets loadModel rebuild a user class, and refuses built-in or taken names', async () => {
    const net = new TinyNet({ features: 3, seed: 4 });
    const dir = freshDir();
    await net.save(dir);
    await expect(loadModel(dir)).rejects.toBeInstanceOf(UnknownModelError);
    registerModel('TinyNet', TinyNet);
    try {
      registerModel('TinyNet', TinyNet); // the same class again: fine
      expect(registeredModels()).toContain('TinyNet');
      const loaded = await loadModel(dir);
      expect(loaded).toBeInstanceOf(TinyNet);
      expect(stateValues(loaded)).toEqual(stateValues(net));
      loaded.dispose();
      expect(() => registerModel('VAE', TinyNet)).toThrow(/built-in/);
      expect(() => registerModel('TinyNet', VAE)).toThrow(/already registered/);
    } finally {
      unregisterModel('TinyNet');
      net.dispose();
    }
  });

  it('says what to declare when a class has no modelName', async () => {
    class Nameless extends TinyNet {}
    Object.defineProperty(Nameless, 'modelName', { value: '' });
    const net = new Nameless({ features: 2 });
    await expect(net.save(freshDir())).rejects.toThrow(/modelName/);
    net.dispose();
  });
});
