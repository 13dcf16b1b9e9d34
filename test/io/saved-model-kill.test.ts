import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UNetSegmenter, loadSavedModel } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'medvae-save-kill-'));
let models: Record<string, UNetSegmenter>;

beforeAll(async () => {
  await setupBackend('cpu');
  // The same two models the child saves, built from the same seeds.
  models = {
    relu: new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], activation: 'relu', seed: 1 }),
    silu: new UNetSegmenter({ inChannels: 1, numClasses: 1, channels: [4, 8], activation: 'silu', seed: 2 }),
  };
});
afterAll(() => {
  for (const m of Object.values(models)) m.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** Starts the saving child, waits for `after` completed saves, then kills it with SIGKILL after `delayMs`. */
function runAndKill(dir: string, after: number, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'save-loop-child.ts'), dir], { cwd: join(here, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(`saved ${after}\n`)) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}: ${err}`))));
  });
}

it('kill -9 during repeated saves always leaves a save whose weights match its config', async () => {
  const parent = join(root, 'kills');
  const dir = join(parent, 'model');
  // Kill moments spread over a save (one takes a few ms): right after one finished, and later.
  for (const [i, delay] of [0, 1, 3, 6].entries()) {
    await runAndKill(dir, 1 + (i % 2), delay);
    const saved = await loadSavedModel(dir);
    const activation = saved.config.activation as string;
    const expected = models[activation].stateDict();
    try {
      for (const [k, v] of Object.entries(expected)) expect(Array.from(saved.weights[k].dataSync()), `${activation} ${k}`).toEqual(Array.from(v.dataSync()));
    } finally {
      tf.dispose(Object.values(saved.weights));
    }
  }
  // A save by a live process removes what the killed ones left beside the directory.
  await models.relu.save(dir);
  expect(readdirSync(parent)).toEqual(['model']);
}, 120_000);
