import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Packs medvae as npm would publish it, installs the tarball into a fresh project, and checks that
// both module systems load it and that its types resolve for both.
const root = resolve(__dirname, '..');
let work = '';

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

// The minutes-long pack and install run asynchronously: a synchronous child blocks the worker's
// event loop, and vitest's RPC to the worker times out ("Timeout calling onTaskUpdate").
async function runAsync(cmd: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, npm_config_loglevel: 'error' } });
  return stdout;
}

// The public names the packaging check imports; extend as areas land.
const names = ['Module', 'Generator', 'useBackend', 'MedvaeError', 'Conv2d', 'Linear', 'Sequential', 'UNetSegmenter', 'diceLoss', 'computeDice', 'DDPMScheduler', 'readNifti', 'DataLoader',
  'Conv3d', 'slidingWindowInference', 'segmentVolume', 'exportOnnx', 'exportTorch', 'CheckpointManager', 'readDicomAsync'];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvae-pack-'));
  const packOut = (await runAsync('npm', ['pack', '--pack-destination', work, '--silent'], root)).trim().split('\n').pop() ?? '';
  const tarball = join(work, packOut || readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  await runAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'typescript@5.9.3', '@types/node@20'], app);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('loads with import (ESM) and computes a gradient on wasm', () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'esm.mjs'), `
      import * as tf from '@tensorflow/tfjs-core';
      import * as medvae from 'medvae';
      for (const n of ${JSON.stringify(names)}) if (!(n in medvae)) throw new Error('missing export ' + n);
      await medvae.useBackend('wasm');
      const g = tf.grad((x) => tf.sum(tf.square(x)));
      console.log(tf.getBackend(), Array.from(g(tf.tensor([1, 2])).dataSync()).join(','));
    `);
    expect(run('node', ['esm.mjs'], app).trim().split('\n').pop()).toBe('wasm 2,4');
  });

  it('loads with require (CJS)', () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'cjs.cjs'), `
      const medvae = require('medvae');
      const tf = require('@tensorflow/tfjs-core');
      for (const n of ${JSON.stringify(names)}) if (!(n in medvae)) throw new Error('missing export ' + n);
      medvae.useBackend('cpu').then(() => console.log(tf.getBackend()));
    `);
    expect(run('node', ['cjs.cjs'], app).trim().split('\n').pop()).toBe('cpu');
  });

  it('installs the medvae command', () => {
    const app = join(work, 'app');
    const out = run(join(app, 'node_modules', '.bin', 'medvae'), ['--help'], app);
    expect(out).toMatch(/info FILE/);
    expect(out).toMatch(/segment IN/);
  });

  it('resolves its types for ESM and CJS consumers', () => {
    const app = join(work, 'app');
    const src = `import { Module, useBackend, Generator, UNetSegmenter } from 'medvae';\n` +
      `const g: Generator = new Generator(1);\nconst p: Promise<string> = useBackend('cpu');\n` +
      `type M = Module<number, string>;\nconst seg: UNetSegmenter | null = null;\nexport const used: [Generator, Promise<string>, M | null, UNetSegmenter | null] = [g, p, null, seg];\n`;
    writeFileSync(join(app, 'check.mts'), src);
    writeFileSync(join(app, 'check.cts'), src);
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = run('node', [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--skipLibCheck', 'check.mts', 'check.cts'], app);
    expect(out).toBe('');
  });
});
