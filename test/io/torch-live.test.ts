import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, exportTorch, loadSafetensors, loadTorchExport } from '../../src/index.js';
import { TORCH_CASES } from '../fixtures/io/torch/cases.js';
import { setupBackend } from '../helpers/tf.js';
import { compareWithTorch } from './torch-compare.js';

// The round trip run live: medvae exports, python/medvae_torch (under Debian's /usr/bin/python3
// with torch) loads, runs and trains, medvae imports the result back.
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const torchVersion = probe.status === 0 ? probe.stdout.trim() : null;
if (torchVersion === null) {
  console.log(`Skipping the live PyTorch round trip: ${PYTHON} cannot import torch (${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()}). Debian: apt-get install python3-torch.`);
}
const script = fileURLToPath(new URL('../fixtures/io/torch/gen_torch_fixtures.py', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'medvae-torch-live-'));

beforeAll(() => setupBackend('cpu'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(torchVersion === null)(`live round trip through python/medvae_torch (torch ${torchVersion ?? 'absent'})`, () => {
  it('every architecture: exported, run and trained in PyTorch, imported back, outputs equal to 1e-5', async () => {
    const dirs: string[] = [];
    for (const c of TORCH_CASES) {
      const model = c.build();
      c.warm(model, new Generator(7));
      model.eval();
      const dir = join(scratch, c.name);
      await exportTorch(model, join(dir, 'export'));
      model.dispose();
      dirs.push(dir);
    }
    const run = spawnSync(PYTHON, [script, ...dirs], { encoding: 'utf8' });
    expect(run.status, `medvae_torch run failed:\n${run.stderr}`).toBe(0);
    for (const [i, c] of TORCH_CASES.entries()) {
      const { tensors: io } = await loadSafetensors(join(dirs[i], 'io.safetensors'));
      const exported = await loadTorchExport(join(dirs[i], 'export'));
      const trained = await loadTorchExport(join(dirs[i], 'trained'));
      exported.eval();
      trained.eval();
      const a = compareWithTorch(exported, io, 'output', `${c.name} (live)`);
      const b = compareWithTorch(trained, io, 'trained', `${c.name} (live, trained in PyTorch)`);
      console.log(`${c.name} live: worst relative error ${a.toExponential(2)} / ${b.toExponential(2)} after PyTorch training`);
      exported.dispose();
      trained.dispose();
      tf.dispose(Object.values(io));
    }
  });
});
