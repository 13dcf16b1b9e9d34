import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileFormatError,
  Generator,
  StateDictError,
  UNet,
  UNetSegmenter,
  ValueError,
  exportTorch,
  importTorch,
  loadSafetensors,
  loadTorchExport,
  type TorchExportable,
} from '../../src/index.js';
import { TORCH_CASES } from '../fixtures/io/torch/cases.js';
import { setupBackend } from '../helpers/tf.js';
import { compareWithTorch } from './torch-compare.js';

const fixtures = fileURLToPath(new URL('../fixtures/io/torch/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'medvae-torch-export-'));

beforeAll(() => setupBackend('cpu'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function stateValues(model: TorchExportable): Record<string, number[]> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]));
}

describe('export to PyTorch (fixtures made by python/medvae_torch with torch 1.13)', () => {
  for (const c of TORCH_CASES) {
    it(`${c.name}: medvae equals PyTorch on the exported weights, and on the weights PyTorch trained`, async () => {
      const { tensors: io } = await loadSafetensors(join(fixtures, c.name, 'io.safetensors'));
      const before = tf.memory().numTensors;
      const exported = await loadTorchExport(join(fixtures, c.name, 'export'));
      exported.eval();
      const worst = compareWithTorch(exported, io, 'output', c.name);
      const trained = await loadTorchExport(join(fixtures, c.name, 'trained'));
      trained.eval();
      const worstTrained = compareWithTorch(trained, io, 'trained', `${c.name} (trained in PyTorch)`);
      // PyTorch's training changed the network, so the second comparison is not the first again.
      const moved = Object.entries(trained.stateDict()).some(([k, v]) => {
        const a = v.dataSync();
        const b = exported.stateDict()[k].dataSync();
        return a.some((x, i) => x !== b[i]);
      });
      expect(moved, `${c.name}: PyTorch training changed the weights`).toBe(true);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)} (exported), ${worstTrained.toExponential(2)} (trained in PyTorch)`);
      exported.dispose();
      trained.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(Object.values(io));
    });
  }

  it('the committed exports are what exportTorch writes for the same seeded, warmed-up models', async () => {
    for (const c of TORCH_CASES) {
      const model = c.build();
      c.warm(model, new Generator(100));
      model.eval();
      const dir = join(scratch, `again-${c.name}`);
      await exportTorch(model, dir);
      expect(readFileSync(join(dir, 'config.json'), 'utf8'), `${c.name} config.json`).toBe(readFileSync(join(fixtures, c.name, 'export', 'config.json'), 'utf8'));
      const fresh = await loadSafetensors(join(dir, 'model.safetensors'));
      const committed = await loadSafetensors(join(fixtures, c.name, 'export', 'model.safetensors'));
      expect(Object.keys(fresh.tensors).sort()).toEqual(Object.keys(committed.tensors).sort());
      for (const [k, t] of Object.entries(committed.tensors)) {
        expect(fresh.tensors[k].shape, `${c.name} ${k}`).toEqual(t.shape);
        const a = fresh.tensors[k].dataSync();
        const b = t.dataSync();
        // Same seeds, same initialisers, same warm-up: equal up to float rounding of the warm-up's statistics.
        for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i]), `${c.name} ${k}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(b[i])));
      }
      tf.dispose([...Object.values(fresh.tensors), ...Object.values(committed.tensors)]);
      model.dispose();
    }
  });
});

describe('exportTorch / importTorch round trip', () => {
  it('writes PyTorch layouts (OIHW conv, IOHW transposed conv, [out, in] linear) and imports them back exactly, without leaks', async () => {
    const net = new UNet({ inChannels: 2, outChannels: 3, channels: [4, 8], seed: 3 });
    const dir = join(scratch, 'unet');
    const start = tf.memory().numTensors;
    await exportTorch(net, dir);
    await exportTorch(net, dir);
    expect(tf.memory().numTensors).toBe(start);
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
    expect(tensors['encoders.0.body.0.conv.weight'].shape).toEqual([4, 2, 3, 3]);
    expect(tensors['ups.0.weight'].shape).toEqual([8, 4, 2, 2]);
    expect(tensors['head.weight'].shape).toEqual([3, 4, 1, 1]);
    tf.dispose(Object.values(tensors));
    const other = new UNet({ inChannels: 2, outChannels: 3, channels: [4, 8], seed: 4 });
    const before = tf.memory().numTensors;
    await importTorch(other, dir);
    await importTorch(other, dir);
    expect(tf.memory().numTensors).toBe(before);
    expect(stateValues(other)).toEqual(stateValues(net));
    net.dispose();
    other.dispose();
  });

  it('refuses another architecture, other options and a foreign config with typed errors', async () => {
    const seg = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
    const dir = join(scratch, 'seg');
    await exportTorch(seg, dir);
    const unet = new UNet({ inChannels: 1, outChannels: 2, channels: [4, 8], seed: 0 });
    await expect(importTorch(unet, dir)).rejects.toThrow(ValueError);
    await expect(importTorch(unet, dir)).rejects.toThrow(/holds a UNetSegmenter, but the model is a UNet/);
    const wider = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], norm: 'instance', seed: 0 });
    await expect(importTorch(wider, dir)).rejects.toThrow(/norm: model "instance", file "batch"/);
    const bad = join(scratch, 'bad');
    await exportTorch(seg, bad);
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ format: 'something-else' }));
    await expect(loadTorchExport(bad)).rejects.toThrow(FileFormatError);
    await expect(importTorch(seg, join(scratch, 'missing'))).rejects.toThrow(/Cannot read .*config\.json/);
    // A weights file from another network: the state-dict check names the keys.
    const net = new UNet({ inChannels: 1, outChannels: 2, channels: [4, 8, 16], seed: 0 });
    const otherDir = join(scratch, 'other');
    await exportTorch(net, otherDir);
    writeFileSync(join(otherDir, 'config.json'), readFileSync(join(dir, 'config.json')));
    await expect(importTorch(seg, otherDir)).rejects.toThrow(StateDictError);
    seg.dispose();
    unet.dispose();
    wider.dispose();
    net.dispose();
  });
});
