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

// The pack, the install and the checks (a tsc run takes ~40 s on a loaded machine) run
// asynchronously: a synchronous child blocks the worker's event loop, and vitest's RPC to the
// worker times out ("Timeout calling onTaskUpdate").
async function runAsync(cmd: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, npm_config_loglevel: 'error' } });
  return stdout;
}

// The public names the packaging check imports; extend as areas land.
const names = ['Module', 'Generator', 'useBackend', 'MedvaeError', 'Conv2d', 'Linear', 'Sequential', 'UNetSegmenter', 'diceLoss', 'computeDice', 'DDPMScheduler', 'readNifti', 'DataLoader',
  'Conv3d', 'slidingWindowInference', 'segmentVolume', 'exportOnnx', 'exportTorch', 'CheckpointManager', 'readDicomAsync'];

// Subpath entry points (package.json "exports") and a few names each must provide.
const subpaths: Record<string, string[]> = {
  losses: ['diceLoss', 'diceCELoss', 'gaussianKL', 'gradientPenalty'],
  metrics: ['computeDice', 'hausdorffDistance95', 'ssim', 'confusionMatrix'],
  data: ['DataLoader', 'readNifti', 'readDicomAsync', 'randomSplit', 'normalizeIntensity'],
  models: ['UNetSegmenter', 'VAE', 'VAEGAN', 'DDPM', 'DCGAN', 'LatentClassifier', 'AdversarialSegmenter', 'MonaiBasicUNet'],
  backend: ['useBackend', 'backendReport', 'currentBackend', 'setNativeThreads'],
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvae-pack-'));
  const packOut = (await runAsync('npm', ['pack', '--pack-destination', work, '--silent'], root)).trim().split('\n').pop() ?? '';
  const tarball = join(work, packOut || readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  await runAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'typescript@5.9.3', '@types/node@20'], app);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('loads with import (ESM) and computes a gradient on wasm', async () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'esm.mjs'), `
      import * as tf from '@tensorflow/tfjs-core';
      import * as medvae from 'medvae';
      for (const n of ${JSON.stringify(names)}) if (!(n in medvae)) throw new Error('missing export ' + n);
      await medvae.useBackend('wasm');
      const g = tf.grad((x) => tf.sum(tf.square(x)));
      console.log(tf.getBackend(), Array.from(g(tf.tensor([1, 2])).dataSync()).join(','));
    `);
    expect((await runAsync('node', ['esm.mjs'], app)).trim().split('\n').pop()).toBe('wasm 2,4');
  });

  it('loads with require (CJS)', async () => {
    const app = join(work, 'app');
    writeFileSync(join(app, 'cjs.cjs'), `
      const medvae = require('medvae');
      const tf = require('@tensorflow/tfjs-core');
      for (const n of ${JSON.stringify(names)}) if (!(n in medvae)) throw new Error('missing export ' + n);
      medvae.useBackend('cpu').then(() => console.log(tf.getBackend()));
    `);
    expect((await runAsync('node', ['cjs.cjs'], app)).trim().split('\n').pop()).toBe('cpu');
  });

  it('installs the medvae command', async () => {
    const app = join(work, 'app');
    const out = await runAsync(join(app, 'node_modules', '.bin', 'medvae'), ['--help'], app);
    expect(out).toMatch(/info FILE/);
    expect(out).toMatch(/segment IN/);
  });

  // Each subpath exports what it should, and every one of its names is the root's very object: the
  // entries share code through chunks, so classes are not duplicated (instanceof holds across
  // entries) and module state (active backend, registered kernels) is one.
  it.each(['esm', 'cjs'] as const)('subpath entries resolve and share objects with the root (%s)', async (kind) => {
    const app = join(work, 'app');
    const load = kind === 'esm'
      ? `import * as root from 'medvae';\n` + Object.keys(subpaths).map((a) => `import * as ${a} from 'medvae/${a}';`).join('\n')
      : `const root = require('medvae');\n` + Object.keys(subpaths).map((a) => `const ${a} = require('medvae/${a}');`).join('\n');
    const body = `
      const expected = ${JSON.stringify(subpaths)};
      const areas = { ${Object.keys(subpaths).join(', ')} };
      const counts = [];
      for (const [area, mod] of Object.entries(areas)) {
        for (const n of expected[area]) if (!(n in mod)) throw new Error('medvae/' + area + ' lacks ' + n);
        for (const [n, v] of Object.entries(mod)) if (root[n] !== v) throw new Error('medvae/' + area + '.' + n + ' is not the root export');
        counts.push(area + ':' + Object.keys(mod).length);
      }
      // A typed error thrown inside a subpath entry is an instance of the root's error classes.
      let caught;
      try { losses.diceLoss(null, null); } catch (e) { caught = e; }
      if (!(caught instanceof root.MedvaeError)) throw new Error('diceLoss threw ' + String(caught));
      console.log(counts.join(' '));
    `;
    const file = kind === 'esm' ? 'subpaths.mjs' : 'subpaths.cjs';
    writeFileSync(join(app, file), load + body);
    const out = (await runAsync('node', [file], app)).trim().split('\n').pop() ?? '';
    for (const area of Object.keys(subpaths)) expect(out).toMatch(new RegExp(`${area}:[1-9]`));
  });

  it('types a subpath import as the root type (ESM and CJS)', async () => {
    const app = join(work, 'app');
    // UNetSegmenter has private members, so the two annotations agree only if both name the same
    // declaration (a duplicated .d.ts class would be a different, incompatible type).
    const src = `import { UNetSegmenter, diceLoss, DataLoader } from 'medvae';\n` +
      `import { UNetSegmenter as Seg } from 'medvae/models';\nimport { diceLoss as dl } from 'medvae/losses';\n` +
      `import { computeDice } from 'medvae/metrics';\nimport { DataLoader as DL } from 'medvae/data';\nimport { useBackend } from 'medvae/backend';\n` +
      `export function same(a: Seg, b: DL<number>): [UNetSegmenter, DataLoader<number>] { return [a, b]; }\n` +
      `export const fns: [typeof diceLoss, typeof computeDice, typeof useBackend] = [dl, computeDice, useBackend];\n`;
    writeFileSync(join(app, 'subpaths-check.mts'), src);
    writeFileSync(join(app, 'subpaths-check.cts'), src);
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await runAsync('node', [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--skipLibCheck', 'subpaths-check.mts', 'subpaths-check.cts'], app);
    expect(out).toBe('');
  });

  it('resolves its types for ESM and CJS consumers', async () => {
    const app = join(work, 'app');
    const src = `import { Module, useBackend, Generator, UNetSegmenter } from 'medvae';\n` +
      `const g: Generator = new Generator(1);\nconst p: Promise<string> = useBackend('cpu');\n` +
      `type M = Module<number, string>;\nconst seg: UNetSegmenter | null = null;\nexport const used: [Generator, Promise<string>, M | null, UNetSegmenter | null] = [g, p, null, seg];\n`;
    writeFileSync(join(app, 'check.mts'), src);
    writeFileSync(join(app, 'check.cts'), src);
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await runAsync('node', [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--skipLibCheck', 'check.mts', 'check.cts'], app);
    expect(out).toBe('');
  });
});
