// How far a brain model's Dice falls when the test images' intensities change (`npm run
// example:intensity-robustness`): trains the main example's recipe on the AXIAL Colin27 slices and
// scores the CORONAL and SAGITTAL ones (planes it never saw), clean and under gamma 1.6 / 0.6,
// Gaussian noise σ 0.05, a bias field 1 + 0.3·sin and a ×255 rescale. Pooled Dice: 2·ΣTP/(ΣP+ΣT)
// over every pixel of every test slice. `--baseline` also trains the recipe without intensity
// normalisation and augmentation, for comparison; `--intensity histogram` swaps the percentile
// scaling for histogram equalisation.
import {
  ArrayDataset, MapDataset, UNetSegmenter, cosineLR, datasetToArray, loadColin27Slices, resize, type IntensityNormalization, type Sample,
} from '../src/index.js';
import { saveSummary, setup } from './common.js';
import { brainAugmentation, testShifts } from './augmentation.js';

const args = await setup('intensity-robustness', process.argv.slice(2), {
  baseline: { type: 'boolean', default: false, help: '--baseline  also train without normalisation/augmentation' },
  size: { type: 'string', help: '--size N  slice size (default 128, the main example\'s; quick 64)' },
  intensity: { type: 'string', help: '--intensity K  percentiles (default: 1–99, the main example\'s) or histogram (MONAI HistogramNormalize)' },
});
const started = Date.now();
const size = Number(args.extra.size ?? (args.quick ? 64 : 128));
const intensities = {
  percentiles: { kind: 'percentiles', lower: 1, upper: 99 },
  histogram: { kind: 'histogram' },
} as const satisfies Record<string, IntensityNormalization>;
const kind = String(args.extra.intensity ?? 'percentiles');
if (!Object.hasOwn(intensities, kind)) throw new Error(`--intensity must be histogram or percentiles, but got '${kind}'.`);
const intensity = intensities[kind as keyof typeof intensities];
const shrink = resize({ spatialSize: [size, size] });
const load = async (axes: ('axial' | 'coronal' | 'sagittal')[]): Promise<Sample[]> => {
  const all = await datasetToArray(await loadColin27Slices({ axes }));
  const picked = args.quick ? all.filter((_, i) => i % 4 === 0) : all;
  return size === 128 ? picked : picked.map((s) => shrink(s));
};
const train = await load(['axial']);
const test = await load(['coronal', 'sagittal']);
console.log(`${train.length} axial slices for training, ${test.length} coronal + sagittal slices for testing (${size}×${size})`);

/** Pooled Dice (2·ΣTP / (ΣP + ΣT) over every pixel) of the model on `samples` after `shift`. */
async function pooledDice(model: UNetSegmenter, samples: Sample[], shift: (s: Sample) => Sample): Promise<number> {
  const report = await model.evaluate(new MapDataset(new ArrayDataset(samples), shift), ['dice'], { batchSize: 16 });
  return report.pooledDice;
}

const results: Record<string, Record<string, number>> = {};
const recipes = args.extra.baseline ? ['baseline', 'normalised + augmented'] : ['normalised + augmented'];
for (const recipe of recipes) {
  const robust = recipe !== 'baseline';
  const model = new UNetSegmenter({
    inChannels: 1, numClasses: 2, channels: args.quick ? [8, 16, 32] : [8, 16, 32, 64], norm: 'batch', seed: args.seed,
    ...(robust ? { intensity } : {}),
  });
  const augment = brainAugmentation(args.seed + 100);
  const data = robust ? new MapDataset(new ArrayDataset(train), (s) => augment(s)) : new ArrayDataset(train);
  const batchSize = args.quick ? 8 : 16;
  // As many optimizer steps as the main example takes (10 epochs × ⌈367 / 16⌉ = 230): the 142 axial
  // slices make 9 batches an epoch, so 10 epochs here would be 90 steps, an undertrained model.
  const epochs = args.epochs ?? (args.quick ? 8 : Math.ceil(230 / Math.ceil(train.length / batchSize)));
  const t = Date.now();
  await model.fit(data, { epochs, batchSize, seed: args.seed, lrSchedule: cosineLR({ lr: 2e-3, totalSteps: epochs * Math.ceil(train.length / batchSize) }) });
  const row: Record<string, number> = {};
  for (const [name, shift] of Object.entries(testShifts(args.seed + 7))) row[name] = Math.round((await pooledDice(model, test, shift)) * 10000) / 10000;
  row.trainSeconds = (Date.now() - t) / 1000;
  console.log(recipe, row);
  results[recipe] = row;
  model.dispose();
}
await saveSummary(args.out, {
  example: 'intensity-robustness',
  backend: args.backend,
  quick: args.quick,
  train: `${train.length} axial Colin27 slices`,
  test: `${test.length} coronal + sagittal Colin27 slices (pooled Dice)`,
  recipe: `main example's UNetSegmenter recipe and step count; 'normalised + augmented' = intensity ${JSON.stringify(intensity)} + random affine p 0.5 (±15°, zoom 0.8–1.2, ±8 px), gamma log-uniform [0.5, 2] p 0.8, noise σ 0.05 p 0.3, random sine bias field ≤ 0.3 p 0.5`,
  pooledDice: results,
  seconds: (Date.now() - started) / 1000,
});
