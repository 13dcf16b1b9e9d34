// Scale-out proof: the main example's brain-mask UNetSegmenter, continued in PyTorch with
// DistributedDataParallel on two processes (torch.distributed.run, gloo, CPU, localhost), imported
// back into medvae and evaluated on the same held-out slices. Both sides print the held-out Dice.
//
//   npm run example:scale-out -- [--model runs/segment-brain/model] [--torch-epochs N]
//       [--python /usr/bin/python3] [--nproc 2] [--quick] [--backend wasm] [--out runs/scale-out] [--seed 0]
//
// Without --model it first trains the example's segmenter briefly in medvae (--epochs, default 3;
// with --quick, 2 epochs on the example's quick 64×64 subset).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  UNetSegmenter, cosineLR, datasetToArray, exportTorch, loadTorchExport, randomSplit, saveSafetensors, type Dataset, type Sample,
} from '../../src/index.js';
import { loadBrainSlices, saveSummary, setup } from '../common.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = await setup('scale-out', process.argv.slice(2), {
  model: { type: 'string', help: '--model DIR        a saved UNetSegmenter (e.g. runs/segment-brain/model from `npm run example`); trained briefly here when absent' },
  'torch-epochs': { type: 'string', help: '--torch-epochs N   epochs of DistributedDataParallel training (default 3, quick 1)' },
  python: { type: 'string', default: '/usr/bin/python3', help: '--python PATH      the Python with torch (default /usr/bin/python3)' },
  nproc: { type: 'string', default: '2', help: '--nproc N          processes of torch.distributed.run (default 2)' },
});
const started = Date.now();

const { data, size } = await loadBrainSlices(args);
const [train, val] = randomSplit(data, [0.8, 0.2], { seed: args.seed });
console.log(`${data.length} slices (${size}×${size}): ${train.length} for training, ${val.length} held out (the main example's split, seed ${args.seed})`);

// 1. The medvae segmenter: the main example's saved model, or one trained briefly as the example does.
let model: UNetSegmenter;
const modelDir = args.extra.model as string | undefined;
if (modelDir !== undefined) {
  model = await UNetSegmenter.load(modelDir);
  console.log(`[medvae] loaded ${modelDir}`);
} else {
  model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: args.quick ? [8, 16, 32] : [8, 16, 32, 64], norm: 'batch', seed: args.seed });
  const epochs = args.epochs ?? (args.quick ? 2 : 3);
  const batchSize = args.quick ? 8 : 16;
  console.log(`[medvae] no --model: training the example's segmenter for ${epochs} epochs first`);
  await model.fit(train, { epochs, batchSize, lrSchedule: cosineLR({ lr: 2e-3, totalSteps: epochs * Math.ceil(train.length / batchSize) }), seed: args.seed });
}
const diceBefore = (await model.evaluate(val, ['dice'])).dice;
console.log(`[medvae] held-out Dice before PyTorch: ${diceBefore.toFixed(6)}`);

// 2. Hand over: the network (config.json + model.safetensors, NCHW) and the slices (NCHW images, class-index masks).
const exportDir = join(args.out, 'torch-export');
await exportTorch(model, exportDir);
async function stack(set: Dataset<Sample>): Promise<{ images: tf.Tensor; masks: tf.Tensor }> {
  const samples = await datasetToArray(set);
  const [h, w] = samples[0].image.shape;
  const images = new Float32Array(samples.length * h * w);
  const masks = new Int32Array(samples.length * h * w);
  samples.forEach((s, i) => {
    images.set(s.image.data as Float32Array, i * h * w);
    const m = (s.mask as NonNullable<Sample['mask']>).data;
    for (let j = 0; j < h * w; j++) masks[i * h * w + j] = Math.round(m[j]);
  });
  return { images: tf.tensor4d(images, [samples.length, 1, h, w]), masks: tf.tensor3d(masks, [samples.length, h, w], 'int32') };
}
const tr = await stack(train);
const va = await stack(val);
const dataFile = join(args.out, 'slices.safetensors');
await saveSafetensors(dataFile, { train_images: tr.images, train_masks: tr.masks, val_images: va.images, val_masks: va.masks });
tf.dispose([tr.images, tr.masks, va.images, va.masks]);

// 3. PyTorch: DistributedDataParallel on --nproc processes, gloo over localhost.
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}
const torchEpochs = Number(args.extra['torch-epochs'] ?? (args.quick ? 1 : 3));
const trainedDir = join(args.out, 'torch-trained');
const port = await freePort();
// --redirects 1 --tee 1 (stdout to a log file and to the console) rather than the defaults "0": torch 1.13's
// launcher cannot parse "0" under Python 3.11 (its Std flag lookup skips the zero member and it
// crashes with "'NoneType' object has no attribute 'get'"), and this also works everywhere else.
const command = [
  '-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1', '--nnodes', '1', '--nproc_per_node', String(args.extra.nproc), '--master_addr', '127.0.0.1', '--master_port', String(port),
  join(repo, 'examples', 'scale-out', 'train_ddp.py'),
  '--export', exportDir, '--data', dataFile, '--out', trainedDir, '--epochs', String(torchEpochs), '--seed', String(args.seed),
];
const python = args.extra.python as string;
console.log(`[medvae] running: ${python} ${command.join(' ')}`);
const torchStarted = Date.now();
const code = await new Promise<number>((ok, fail) => {
  const child = spawn(python, command, {
    stdio: 'inherit',
    env: { ...process.env, PYTHONPATH: [join(repo, 'python'), process.env.PYTHONPATH].filter(Boolean).join(':'), OMP_NUM_THREADS: '1' },
  });
  child.once('error', fail);
  child.once('exit', (c) => ok(c ?? 1));
});
if (code !== 0) throw new Error(`torch.distributed.run exited with ${code}; see its output above.`);
const torchSeconds = (Date.now() - torchStarted) / 1000;
const torchResult = JSON.parse(await readFile(join(trainedDir, 'torch-result.json'), 'utf8')) as { heldOutDiceBefore: number; heldOutDiceAfter: number };

// 4. Back in medvae: import PyTorch's weights and evaluate on the same held-out slices.
const back = (await loadTorchExport(trainedDir)) as UNetSegmenter;
const diceAfter = (await back.evaluate(val, ['dice'])).dice;
console.log(`[medvae] held-out Dice after import:  ${diceAfter.toFixed(6)}`);
console.log('');
console.log('held-out Dice          medvae      PyTorch');
console.log(`exported model         ${diceBefore.toFixed(6)}    ${torchResult.heldOutDiceBefore.toFixed(6)}`);
console.log(`after DDP training     ${diceAfter.toFixed(6)}    ${torchResult.heldOutDiceAfter.toFixed(6)}`);
const gap = Math.max(Math.abs(diceBefore - torchResult.heldOutDiceBefore), Math.abs(diceAfter - torchResult.heldOutDiceAfter));
await saveSummary(args.out, {
  example: 'scale-out',
  backend: args.backend,
  quick: args.quick,
  model: modelDir ?? 'trained here',
  imageSize: size,
  split: { train: train.length, heldOut: val.length, seed: args.seed },
  torch: { processes: Number(args.extra.nproc), backend: 'gloo', epochs: torchEpochs, seconds: torchSeconds, result: join(trainedDir, 'torch-result.json') },
  heldOutDice: {
    medvaeBefore: diceBefore, torchBefore: torchResult.heldOutDiceBefore, torchAfter: torchResult.heldOutDiceAfter, medvaeAfter: diceAfter, largestGap: gap,
  },
  seconds: (Date.now() - started) / 1000,
});
model.dispose();
back.dispose();
// The two sides compute the same metric on the same predictions; a gap means the hand-over lost something.
if (gap > 1e-4) throw new Error(`medvae and PyTorch disagree on the held-out Dice by ${gap}; the export or import is wrong.`);
