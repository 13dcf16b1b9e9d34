import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConcatDataset, FileFormatError, UNetSegmenter, niftiSliceDataset, randomSplit, type Dataset, type Sample, type SliceAxis, type SliceNormalization } from '../index.js';
import { UsageError } from './errors.js';
import { PREPROCESSING_FILE, type VolumePreprocessing } from './options.js';

/** What `medvae train` needs (from its command line). */
export interface TrainCommand {
  images: string;
  labels: string;
  out: string;
  axis: SliceAxis[];
  size: [number, number];
  intensity: SliceNormalization;
  numClasses: number;
  channels: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  valFraction: number;
  seed: number;
  minForeground: number;
  step: number;
}

const NIFTI = /\.nii(\.gz)?$/i;

/** Image/label file pairs: every NIfTI file of `images` with the file of the same name in `labels`. */
export async function pairVolumes(images: string, labels: string): Promise<[string, string][]> {
  const list = async (dir: string): Promise<string[]> => {
    try {
      return (await readdir(dir)).filter((n) => NIFTI.test(n)).sort();
    } catch (err) {
      throw new FileFormatError(`Cannot list the folder '${dir}'.`, { cause: err });
    }
  };
  const [imgs, labs] = await Promise.all([list(images), list(labels)]);
  if (imgs.length === 0) throw new UsageError(`No NIfTI files (.nii, .nii.gz) in '${images}'.`);
  const missing = imgs.filter((n) => !labs.includes(n));
  if (missing.length > 0) {
    throw new UsageError(`No label volume of the same name in '${labels}' for: ${missing.join(', ')}. Give each image a label file with its name.`);
  }
  return imgs.map((n) => [join(images, n), join(labels, n)]);
}

/** Runs `medvae train`: slices the volumes, trains a 2-D UNetSegmenter, evaluates, saves it with its preprocessing. */
export async function runTrain(cmd: TrainCommand, log: (line: string) => void, tty: boolean): Promise<{ dice: number; slices: number }> {
  const pairs = await pairVolumes(cmd.images, cmd.labels);
  const parts: Dataset<Sample>[] = [];
  for (const [image, mask] of pairs) {
    parts.push(await niftiSliceDataset({
      image, mask, axis: cmd.axis, size: cmd.size, normalize: cmd.intensity, minForeground: cmd.minForeground, step: cmd.step,
      flipRows: true, binarizeMask: cmd.numClasses <= 2,
    }));
  }
  const all = parts.length === 1 ? parts[0] : new ConcatDataset(parts);
  if (all.length < 2) throw new UsageError(`Only ${all.length} slice(s) with at least ${cmd.minForeground * 100}% foreground; lower --min-foreground or add volumes.`);
  const nVal = cmd.valFraction > 0 ? Math.max(1, Math.round(all.length * cmd.valFraction)) : 0;
  const [train, val] = nVal > 0 ? randomSplit(all, [all.length - nVal, nVal], { seed: cmd.seed }) : [all, undefined];
  log(`${pairs.length} volume(s) → ${all.length} slices (${cmd.axis.join(', ')}, ${cmd.size.join('×')}): ${train.length} for training, ${nVal} held out`);
  const model = new UNetSegmenter({ inChannels: 1, numClasses: cmd.numClasses, channels: cmd.channels, seed: cmd.seed });
  try {
    const started = Date.now();
    await model.fit(train, { epochs: cmd.epochs, batchSize: cmd.batchSize, lr: cmd.lr, seed: cmd.seed, validation: val, onProgress: tty ? 'bar' : 'none' });
    const metrics = val ? await model.evaluate(val, ['dice']) : { dice: NaN };
    log(`trained ${cmd.epochs} epoch(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; held-out Dice ${metrics.dice.toFixed(4)}`);
    await model.save(cmd.out);
    const pre: VolumePreprocessing = { axis: cmd.axis, size: cmd.size, intensity: cmd.intensity, flipRows: true };
    await writeFile(join(cmd.out, PREPROCESSING_FILE), `${JSON.stringify(pre, null, 2)}\n`);
    log(`saved the model and its preprocessing (${PREPROCESSING_FILE}) to ${cmd.out}`);
    return { dice: metrics.dice, slices: all.length };
  } finally {
    model.dispose();
  }
}
