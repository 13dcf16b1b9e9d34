// Shared plumbing of the example scripts: command-line options, output folder, PNG/JSON writers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  ArrayDataset, datasetToArray, loadColin27Slices, niftiSliceDataset, resize, toDisplayImage, useBackend, writePng,
  type BackendName, type Dataset, type ImageData2D, type Sample,
} from '../src/index.js';

/** The options every example accepts. */
export interface ExampleArgs {
  backend: BackendName;
  epochs: number | undefined;
  data: string | undefined;
  out: string;
  seed: number;
  quick: boolean;
  /** Values of the example's own options (see {@link ExtraOption}), by name; absent ones are undefined. */
  extra: Record<string, string | boolean | undefined>;
}

/** An option one example adds to the common ones (e.g. `--latent 2`). */
export interface ExtraOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** Shown by --help, e.g. '--latent N  latent size (default 128)'. */
  help: string;
}

/** Parses `--backend --epochs --data --out --seed --quick` (plus the example's `extra` options) and activates the backend. */
export async function setup(name: string, argv = process.argv.slice(2), extra: Record<string, ExtraOption> = {}): Promise<ExampleArgs> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string', default: 'wasm' },
      epochs: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: join('runs', name) },
      seed: { type: 'string', default: '0' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.entries(extra).map(([k, o]) => [k, o.default === undefined ? { type: o.type } : { type: o.type, default: o.default }])),
    },
  });
  if (values.help) {
    console.log(`usage: npm run example:${name} -- [--backend wasm|cpu|tensorflow|webgpu] [--epochs N] [--data PATH] [--out DIR] [--seed N] [--quick]`);
    for (const o of Object.values(extra)) console.log(`  ${o.help}`);
    process.exit(0);
  }
  const args: ExampleArgs = {
    backend: values.backend as BackendName,
    epochs: values.epochs === undefined ? undefined : Number(values.epochs),
    data: values.data,
    out: values.out as string,
    seed: Number(values.seed),
    quick: values.quick as boolean,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, (values as Record<string, string | boolean | undefined>)[k]])),
  };
  // tfjs-backend-wasm installs a handler that re-throws unhandled errors, which prints its whole
  // minified source; report the error itself instead and exit non-zero.
  const report = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(`[${name}] ${e.name}: ${e.message}`);
    process.exit(1);
  };
  process.prependListener('uncaughtException', report);
  process.prependListener('unhandledRejection', report);
  await useBackend(args.backend);
  await mkdir(args.out, { recursive: true });
  console.log(`[${name}] backend ${args.backend}${args.quick ? ' (quick mode)' : ''}; writing to ${args.out}`);
  return args;
}

/** Writes an 8-bit image as PNG under the output folder. */
export async function savePng(out: string, file: string, image: ImageData2D): Promise<void> {
  await writeFile(join(out, file), writePng(image));
}

/** Writes `summary.json` under the output folder and prints it. */
export async function saveSummary(out: string, summary: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(summary, null, 2);
  await writeFile(join(out, 'summary.json'), `${text}\n`);
  console.log(text);
}

/**
 * One 8-bit display tile per image of a batch `[B, H, W, 1|3]`, mapping `[min, max]` (default
 * [0, 1]) to black…white: the input of imageGrid.
 */
export function batchTiles(batch: tf.Tensor4D, range: { min: number; max: number } = { min: 0, max: 1 }): ImageData2D[] {
  const tiles: ImageData2D[] = [];
  for (let i = 0; i < batch.shape[0]; i++) {
    const one = tf.slice(batch, [i, 0, 0, 0], [1, -1, -1, -1]);
    tiles.push(toDisplayImage(one, range));
    one.dispose();
  }
  return tiles;
}

/**
 * The brain slices the segmentation examples train on: the embedded Colin27 slices (128×128), or the
 * axial slices of `--data image.nii.gz,mask.nii.gz`; in quick mode 64 of them, evenly spread, at 64×64.
 */
export async function loadBrainSlices(args: ExampleArgs): Promise<{ data: Dataset<Sample>; size: number }> {
  let data: Dataset<Sample>;
  if (args.data === undefined) {
    data = await loadColin27Slices();
  } else {
    const [image, mask] = args.data.split(',');
    if (mask === undefined) throw new Error('--data takes "image.nii.gz,mask.nii.gz" (a brain image and its mask, > 0 = brain).');
    data = await niftiSliceDataset({ image, mask, axis: 'axial', size: 128 });
  }
  if (!args.quick) return { data, size: 128 };
  const all = await datasetToArray(data);
  const pick = all.filter((_, i) => i % Math.ceil(all.length / 64) === 0).slice(0, 64);
  const shrink = resize({ spatialSize: [64, 64] });
  return { data: new ArrayDataset(pick.map((sample) => shrink(sample))), size: 64 };
}
