import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFormatError, ShapeError, UNetSegmenter, segmentVolume, writeNifti, type NiftiVolume, type SegmentVolumeOptions, type SliceAxis, type SlidingWindowOptions, type VolumeIntensity } from '../index.js';
import { loadVolume } from './load-volume.js';
import { PREPROCESSING_FILE, type VolumePreprocessing } from './options.js';
import { progressBar } from './progress.js';

/** What `medvae segment` needs (from its command line). */
export interface SegmentCommand {
  input: string;
  model: string;
  out: string;
  axis?: SliceAxis;
  size?: [number, number];
  intensity?: VolumeIntensity;
  flipRows?: boolean;
  batchSize?: number;
  flipTTA?: boolean;
  slidingWindow?: SlidingWindowOptions;
  reference?: string;
}

/**
 * Dice of label > 0 against reference > 0 (a brain-extracted image works as a reference), and, when
 * the prediction has several foreground classes, per class against the reference's equal values.
 */
export function volumeDice(pred: NiftiVolume, ref: NiftiVolume): { foreground: number; perClass: Record<number, number> } {
  if (pred.dims.slice(0, 3).some((d, i) => d !== ref.dims[i])) {
    throw new ShapeError(`The reference grid [${ref.dims.slice(0, 3).join(', ')}] differs from the input's [${pred.dims.slice(0, 3).join(', ')}]; resample it first.`);
  }
  const p = pred.data;
  const r = ref.toFloat32();
  const n = pred.dims[0] * pred.dims[1] * pred.dims[2];
  const classes = new Set<number>();
  let inter = 0;
  let sp = 0;
  let sr = 0;
  for (let i = 0; i < n; i++) {
    const a = p[i] > 0;
    const b = r[i] > 0;
    if (a) sp++;
    if (b) sr++;
    if (a && b) inter++;
    if (p[i] > 0) classes.add(p[i]);
  }
  const perClass: Record<number, number> = {};
  if (classes.size > 1) {
    for (const c of classes) {
      let i2 = 0;
      let a2 = 0;
      let b2 = 0;
      for (let i = 0; i < n; i++) {
        const a = p[i] === c;
        const b = r[i] === c;
        if (a) a2++;
        if (b) b2++;
        if (a && b) i2++;
      }
      perClass[c] = a2 + b2 > 0 ? (2 * i2) / (a2 + b2) : NaN;
    }
  }
  return { foreground: sp + sr > 0 ? (2 * inter) / (sp + sr) : NaN, perClass };
}

/** Reads the model folder's preprocessing sidecar, or null when it has none. */
async function readPreprocessing(dir: string): Promise<VolumePreprocessing | null> {
  let text: string;
  try {
    text = await readFile(join(dir, PREPROCESSING_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as VolumePreprocessing;
  } catch (err) {
    throw new FileFormatError(`${join(dir, PREPROCESSING_FILE)} is not valid JSON; delete it or rewrite it with medvae train.`, { cause: err });
  }
}

/** Runs `medvae segment`: reads the volume and model, segments, writes the mask; returns what it printed. */
export async function runSegment(cmd: SegmentCommand, log: (line: string) => void): Promise<{ dice?: number; seconds: number }> {
  const started = Date.now();
  const [{ format, volume }, model, saved] = await Promise.all([loadVolume(cmd.input), UNetSegmenter.load(cmd.model), readPreprocessing(cmd.model)]);
  const three = model.net.config.spatialDims === 3;
  // Command-line options win over the model's sidecar, which wins over the defaults.
  const options: SegmentVolumeOptions = {
    axis: cmd.axis ?? saved?.axis[0] ?? 'axial',
    size: cmd.size ?? saved?.size ?? undefined,
    intensity: cmd.intensity ?? saved?.intensity ?? 'none',
    flipRows: cmd.flipRows ?? saved?.flipRows ?? true,
    batchSize: cmd.batchSize,
    flipTTA: cmd.flipTTA,
    slidingWindow: cmd.slidingWindow,
  };
  const what = three ? (cmd.slidingWindow ? 'windows' : 'volume') : 'slices';
  const bar = progressBar(what);
  options.onProgress = (d, t) => bar.update(d, t);
  log(
    `${cmd.input}: ${format}, ${volume.dims.slice(0, 3).join('×')}; ` +
      (three ? `3-D model${cmd.slidingWindow ? `, windows ${cmd.slidingWindow.roiSize.join('×')}` : ''}` : `2-D model along ${String(options.axis)}${options.size ? `, slices resized to ${[options.size].flat().join('×')}` : ''}`) +
      `, intensity ${JSON.stringify(options.intensity)}` +
      // The model's own per-image normalisation runs after the volume's scaling, inside predict.
      (model.intensity === 'none' ? '' : `, then the model's ${JSON.stringify(model.intensity)} per ${three ? 'volume' : 'slice'}`),
  );
  let labels: NiftiVolume;
  try {
    labels = await segmentVolume(volume, model, options);
  } finally {
    bar.end();
    model.dispose();
  }
  const gzip = /\.gz$/i.test(cmd.out);
  await writeFile(cmd.out, writeNifti(labels, { gzip }));
  const counts = new Map<number, number>();
  for (const v of labels.data) counts.set(v, (counts.get(v) ?? 0) + 1);
  const seconds = (Date.now() - started) / 1000;
  const classes = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}: ${n}`).join(', ');
  log(`wrote ${cmd.out} (${labels.dims.join('×')}, uint8 labels; voxels per class ${classes}) in ${seconds.toFixed(1)} s`);
  if (cmd.reference === undefined) return { seconds };
  const ref = (await loadVolume(cmd.reference)).volume;
  const dice = volumeDice(labels, ref);
  log(`3-D Dice vs ${cmd.reference} (> 0): ${dice.foreground.toFixed(4)}`);
  for (const [c, d] of Object.entries(dice.perClass)) log(`  class ${c}: ${d.toFixed(4)}`);
  return { dice: dice.foreground, seconds };
}
