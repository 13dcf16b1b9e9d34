#!/usr/bin/env node
// The `medvae` command: volume information, whole-volume segmentation and training from a shell.
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, MedvaeError, useBackend, type BackendName, type SlidingWindowOptions } from '../index.js';
import { UsageError } from './errors.js';
import { formatInfo, volumeInfo } from './info.js';
import { parseAxes, parseIntList, parseIntOption, parseIntensity, parseNumber, parseSize } from './options.js';
import { runSegment } from './segment.js';
import { runTrain } from './train.js';

const HELP: Record<string, string> = {
  main: `usage: medvae <command> [options]

commands:
  info FILE...          format, shape, spacing, orientation and voxel type of NIfTI files or DICOM series
  segment IN            segment a whole volume with a saved model, write a label NIfTI on the same grid
  train                 train a 2-D U-Net segmenter on slices of a folder of image/label volumes

Run 'medvae <command> --help' for a command's options.`,
  info: `usage: medvae info FILE... [--json]

FILE is a NIfTI file (.nii, .nii.gz), a DICOM file, or a folder of DICOM slices of one series.
  --json                print the information as JSON`,
  segment: `usage: medvae segment IN --model DIR --out OUT.nii.gz [options]

IN is a NIfTI file, a DICOM file or a folder of DICOM slices. The mask keeps IN's grid and affine.
  --model DIR           a model saved by UNetSegmenter.save or 'medvae train'
  --out FILE            output NIfTI (.nii or .nii.gz)
  --backend NAME        ${BACKEND_NAMES.join(', ')} (default wasm)
  --axis PLANE          2-D models: axial, coronal, sagittal or voxel axis 0/1/2 (default: the model's, else axial)
  --size N|HxW          2-D models: slice size the model was trained on (default: the model's, else native)
  --intensity MODE      percentile, minmax, zscore or none (default: the model's, else none)
  --scale F --offset G  intensity v·F + G instead of --intensity (e.g. --scale 0.0039216 for 8-bit/255)
  --no-flip-rows        2-D models: do not reverse slice rows (training slices were cut without flipRows)
  --batch-size N        2-D models: slices per forward pass (default 8)
  --tta                 average predictions over mirrored inputs
  --roi D,H,W           3-D models: sliding-window size (default: the whole volume at once)
  --overlap F           3-D models: window overlap (default 0.25)
  --mode M              3-D models: window blending, constant or gaussian (default constant)
  --reference FILE      print the 3-D Dice of the mask against FILE > 0`,
  train: `usage: medvae train --images DIR --labels DIR --out DIR [options]

Trains a 2-D UNetSegmenter on slices of every NIfTI volume in --images, with the label volume of
the same file name in --labels, and saves it (with its slice and intensity settings) to --out.
  --backend NAME        ${BACKEND_NAMES.join(', ')} (default wasm)
  --axis PLANES         planes to slice, comma-separated (default axial)
  --size N|HxW          slice size (default 128)
  --intensity MODE      percentile, minmax, zscore or none (default percentile)
  --classes N           2 for masks > 0 vs background (default), more for integer label maps
  --channels LIST       U-Net widths, top level to bottleneck (default 16,32,64,128)
  --epochs N            (default 10)     --batch-size N (default 16)     --lr F (default 0.001)
  --val F               fraction of slices held out for the Dice report (default 0.2)
  --min-foreground F    keep slices with at least this foreground fraction (default 0.01)
  --step N              every N-th slice (default 1)     --seed N (default 0)`,
};

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean' }>): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const str = (v: Values, k: string): string | undefined => v[k] as string | undefined;

function required(v: Values, k: string, command: string): string {
  const s = str(v, k);
  if (s === undefined) throw new UsageError(`medvae ${command} needs --${k}. See 'medvae ${command} --help'.`);
  return s;
}

async function backend(v: Values): Promise<void> {
  const name = (str(v, 'backend') ?? 'wasm') as BackendName;
  if (!BACKEND_NAMES.includes(name)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, but got '${name}'.`);
  await useBackend(name);
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (command === 'info') {
    const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
    if (values.help) return (out(HELP.info), 0);
    if (positionals.length === 0) throw new UsageError("medvae info needs at least one FILE. See 'medvae info --help'.");
    const infos = [];
    for (const file of positionals) infos.push(await volumeInfo(file));
    out(values.json ? JSON.stringify(infos.length === 1 ? infos[0] : infos, null, 2) : infos.map(formatInfo).join('\n\n'));
    return 0;
  }
  if (command === 'segment') {
    const s = { type: 'string' } as const;
    const b = { type: 'boolean' } as const;
    const { values, positionals } = parse(rest, {
      model: s, out: s, backend: s, axis: s, size: s, intensity: s, scale: s, offset: s, 'no-flip-rows': b, 'batch-size': s, tta: b,
      roi: s, overlap: s, mode: s, reference: s,
    });
    if (values.help) return (out(HELP.segment), 0);
    if (positionals.length !== 1) throw new UsageError(`medvae segment takes one input volume, but got ${positionals.length}. See 'medvae segment --help'.`);
    const model = required(values, 'model', 'segment');
    const output = required(values, 'out', 'segment');
    let slidingWindow: SlidingWindowOptions | undefined;
    if (str(values, 'roi') !== undefined) {
      const mode = str(values, 'mode') ?? 'constant';
      if (mode !== 'constant' && mode !== 'gaussian') throw new UsageError(`--mode must be constant or gaussian, but got '${mode}'.`);
      slidingWindow = { roiSize: parseIntList(str(values, 'roi') as string, 'roi'), overlap: str(values, 'overlap') === undefined ? 0.25 : parseNumber(str(values, 'overlap') as string, 'overlap'), mode };
    }
    const axis = str(values, 'axis');
    await backend(values);
    await runSegment({
      input: positionals[0],
      model,
      out: output,
      axis: axis === undefined ? undefined : parseAxes(axis)[0],
      size: str(values, 'size') === undefined ? undefined : parseSize(str(values, 'size') as string),
      intensity: parseIntensity(str(values, 'intensity'), str(values, 'scale'), str(values, 'offset')),
      flipRows: values['no-flip-rows'] ? false : undefined,
      batchSize: str(values, 'batch-size') === undefined ? undefined : parseIntOption(str(values, 'batch-size') as string, 'batch-size'),
      flipTTA: Boolean(values.tta),
      slidingWindow,
      reference: str(values, 'reference'),
    }, out);
    return 0;
  }
  if (command === 'train') {
    const s = { type: 'string' } as const;
    const { values, positionals } = parse(rest, {
      images: s, labels: s, out: s, backend: s, axis: s, size: s, intensity: s, classes: s, channels: s, epochs: s, 'batch-size': s, lr: s, val: s,
      'min-foreground': s, step: s, seed: s,
    });
    if (values.help) return (out(HELP.train), 0);
    if (positionals.length > 0) throw new UsageError(`medvae train takes no positional arguments, but got '${positionals.join(' ')}'. See 'medvae train --help'.`);
    const intensity = parseIntensity(str(values, 'intensity'), undefined, undefined) ?? 'percentile';
    const val = str(values, 'val') === undefined ? 0.2 : parseNumber(str(values, 'val') as string, 'val');
    if (!(val >= 0 && val < 1)) throw new UsageError(`--val must be in [0, 1), but got ${val}.`);
    const cmd = {
      images: required(values, 'images', 'train'),
      labels: required(values, 'labels', 'train'),
      out: required(values, 'out', 'train'),
      axis: parseAxes(str(values, 'axis') ?? 'axial'),
      size: parseSize(str(values, 'size') ?? '128'),
      intensity: intensity as 'percentile' | 'minmax' | 'zscore' | 'none',
      numClasses: parseIntOption(str(values, 'classes') ?? '2', 'classes', 2),
      channels: parseIntList(str(values, 'channels') ?? '16,32,64,128', 'channels'),
      epochs: parseIntOption(str(values, 'epochs') ?? '10', 'epochs'),
      batchSize: parseIntOption(str(values, 'batch-size') ?? '16', 'batch-size'),
      lr: parseNumber(str(values, 'lr') ?? '0.001', 'lr'),
      valFraction: val,
      seed: parseIntOption(str(values, 'seed') ?? '0', 'seed', 0),
      minForeground: parseNumber(str(values, 'min-foreground') ?? '0.01', 'min-foreground'),
      step: parseIntOption(str(values, 'step') ?? '1', 'step'),
    };
    await backend(values);
    await runTrain(cmd, out, Boolean(process.stderr.isTTY));
    return 0;
  }
  throw new UsageError(`Unknown command '${command}'. Commands: info, segment, train; see 'medvae --help'.`);
}

/** Prints an error the way the command reports it: typed medvae errors as one clean line. */
export function reportError(err: unknown, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): number {
  if (err instanceof UsageError) {
    write(`medvae: ${err.message}`);
    return 2;
  }
  if (err instanceof MedvaeError) {
    write(`medvae: ${err.name}: ${err.message}`);
    return 1;
  }
  const e = err as Error;
  write(`medvae: unexpected ${e?.name ?? 'error'}: ${e?.message ?? String(err)}`);
  if (process.env.MEDVAE_DEBUG && e?.stack) write(e.stack);
  return 1;
}

// Run when executed as a script (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/(^|[\\/])(main\.(ts|js)|cli\.(js|cjs)|medvae)$/.test(invoked)) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.exitCode = reportError(err); },
  );
}
