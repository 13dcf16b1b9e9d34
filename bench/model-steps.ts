// The training steps of the VAE and DDPM examples against the same networks in PyTorch 1.13.
//   VAE: examples/vae-mnist.ts — conv 32/64, latent 128, batch 128 of binary 28×28×1, negative ELBO
//        (Bernoulli likelihood + KL), Adam 1e-3; timed as bench/models.ts times it (variableGrads + Adam).
//   DDPM: examples/ddpm-generation.ts — its DiffusionUNet (16/32/32, one layer per block, attention in
//        the bottleneck, cosine β, v-prediction, T 1000), batch 16 of 32×32×1, MSE on the target,
//        gradient norm clipped to 1, Adam 1e-3, EMA 0.999: one step as DDPM.fit takes it.
// Each medvae model is written with exportTorch to a temporary directory and rebuilt from it by
// medvae_torch.load in bench/model_steps.py, so PyTorch trains the same network from the same weights
// (the parameter counts are printed side by side). Contenders, interleaved round by round in one run
// so that the load of a shared machine hits them alike: medvae on wasm + medvae-native (OpenBLAS,
// 2 threads), medvae on pure wasm (with --pure-wasm; native kernels switched off in the same process),
// PyTorch with 1 thread and with 2 threads. Besides wall time per step, CPU time per step (all threads
// of the process): a shared machine's load inflates wall times, PyTorch's 2-thread ones most.
// Run: npm run bench:model-steps -- [--rounds N] [--steps N] [--pure-wasm] [--quick]
//   --quick: the examples' --quick networks, tiny batches, 1 round (a smoke test).
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Adam, clipGradNorm, DDPM, exportTorch, setNativeThreads, toDiffusionRange, useBackend, variableGrads, VAE } from '../src/index.js';
import { loadNativeAddon } from '../src/backend/native/loader.js';
import { installNativeKernels, uninstallNativeKernels } from '../src/backend/native/native-kernels.js';
import { argv, flag, fmtMs, kernelsLine, loadAverage, machineLine, median, printTable } from './common.js';
import { nonNullGrads } from './ddpm-step.js';
import { vaeBenchStep } from './vae-step.js';
import { JsonLineWorker } from './json-line-worker.js';
import { PYTHON, torchUnavailable } from './torch-worker.js';

const QUICK = argv.includes('--quick');
const PURE_WASM = argv.includes('--pure-wasm');
const ROUNDS = Number(flag('--rounds') ?? (QUICK ? 1 : 3));
/** Timed steps per contender per round. */
const STEPS = Number(flag('--steps') ?? (QUICK ? 1 : 2));

const VAE_CFG = QUICK ? { channels: [16, 32], latentDim: 16, batch: 8 } : { channels: [32, 64], latentDim: 128, batch: 128 };
const DDPM_CFG = QUICK
  ? { channels: [8, 16, 32], numTrainTimesteps: 100, midBlockAttention: false, batch: 4 }
  : { channels: [16, 32, 32], numTrainTimesteps: 1000, midBlockAttention: true, batch: 16 };
const LR = 1e-3;
const CLIP = 1;
const EMA_DECAY = 0.999;

/** A model's step for medvae, its parameter count, and the PyTorch setup message for its twin. */
interface ModelBench {
  name: string;
  describe: string;
  params: number;
  step: () => void;
  torchSetup: Record<string, unknown>;
  dispose: () => void;
}

async function vaeBench(dir: string): Promise<ModelBench> {
  const vae = new VAE({ inChannels: 1, imageSize: [28, 28], latentDim: VAE_CFG.latentDim, channels: VAE_CFG.channels, architecture: 'conv', seed: 0 });
  await exportTorch(vae, dir);
  const params = vae.trainableParameters();
  const adam = new Adam(params, { lr: LR });
  const x = tf.tidy(() => tf.round(tf.randomUniform([VAE_CFG.batch, 28, 28, 1], 0, 1, 'float32', 4))) as tf.Tensor4D;
  return {
    name: 'VAE',
    describe: `VAE step: conv ${VAE_CFG.channels.join('/')}, latent ${VAE_CFG.latentDim}, batch ${VAE_CFG.batch} of 28×28×1, Bernoulli ELBO, Adam`,
    params: vae.numParameters(),
    step: vaeBenchStep(vae, params, adam, x),
    torchSetup: { kind: 'vae', dir, batch: VAE_CFG.batch, lr: LR },
    dispose: () => {
      x.dispose();
      adam.dispose();
      vae.dispose();
    },
  };
}

async function ddpmBench(dir: string): Promise<ModelBench> {
  const { batch, ...options } = DDPM_CFG;
  const ddpm = new DDPM({
    inChannels: 1, ...options, layersPerBlock: 1, attentionLevels: [], betaSchedule: 'cosine', predictionType: 'v_prediction', sampleSize: 32, seed: 0,
  });
  // Exported before the EMA exists, so that the file holds the network's weights alone.
  await exportTorch(ddpm, dir);
  const params = ddpm.unet.trainableParameters();
  const count = params.reduce((s, p) => s + p.size, 0);
  const adam = new Adam(params, { lr: LR });
  const ema = ddpm.enableEma({ decay: EMA_DECAY });
  const x01 = tf.randomUniform([batch, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  let seed = 0;
  return {
    name: 'DDPM',
    describe: `DDPM step: DiffusionUNet ${options.channels.join('/')}${options.midBlockAttention ? ' + mid attention' : ''}, v-prediction, batch ${batch} of 32×32×1, MSE, clip ${CLIP}, Adam, EMA`,
    params: count,
    step: () => {
      const x0 = toDiffusionRange(x01);
      const { value, grads } = variableGrads(() => ddpm.trainingLoss(x0, { seed: seed++ }), params);
      x0.dispose();
      const clipped = clipGradNorm(nonNullGrads(grads), CLIP).grads;
      adam.step(clipped);
      tf.dispose(clipped);
      ema.update();
      value.dataSync();
      value.dispose();
    },
    torchSetup: { kind: 'ddpm', dir, batch, lr: LR, clip: CLIP, ema: EMA_DECAY },
    dispose: () => {
      x01.dispose();
      adam.dispose();
      ddpm.dispose();
    },
  };
}

/** A medvae kernel configuration: wasm + native, or pure wasm. */
interface MedvaeVariant {
  name: string;
  setup: () => void;
}

async function main(): Promise<void> {
  await useBackend('wasm');
  const native = await loadNativeAddon();
  console.log(`Model steps of the examples, medvae vs PyTorch${QUICK ? ' (--quick)' : ''}; ${ROUNDS} rounds × ${STEPS} timed steps per contender`);
  console.log(machineLine());
  const loadStart = loadAverage();

  const variants: MedvaeVariant[] = [];
  if (native.ok) {
    variants.push({
      name: 'medvae wasm + native (2 OpenBLAS threads)',
      setup: () => {
        installNativeKernels(native.addon, native.addonPath);
        setNativeThreads(2);
      },
    });
  } else {
    console.log(`medvae-native not available, only pure wasm: ${native.reason}`);
  }
  if (PURE_WASM || !native.ok) variants.push({ name: 'medvae pure wasm', setup: () => uninstallNativeKernels('pure-wasm contender of bench/model-steps.ts') });

  const tmp = await mkdtemp(join(tmpdir(), 'medvae-model-steps-'));
  const models = [await vaeBench(join(tmp, 'vae')), await ddpmBench(join(tmp, 'ddpm'))];
  const noTorch = torchUnavailable();
  const torch = noTorch === null ? new JsonLineWorker(PYTHON, fileURLToPath(new URL('./model_steps.py', import.meta.url))) : null;
  if (!torch) console.log(`PyTorch skipped: ${noTorch}`);
  for (const m of models) {
    console.log(`${m.describe}: medvae ${m.params} parameters`);
    if (!torch) continue;
    const info = await torch.request<{ params: number; torch: string }>({ cmd: 'setup', name: m.name, ...m.torchSetup });
    console.log(`${m.name}: PyTorch ${info.torch}, ${info.params} parameters (medvae: ${m.params})${info.params === m.params ? '' : ' — MISMATCH'}`);
  }
  await rm(tmp, { recursive: true, force: true });

  // times[model][contender] = wall and CPU ms of every timed step. CPU time counts every thread of the
  // process (OpenBLAS's and PyTorch's included); on a loaded machine it moves far less than wall time.
  const times = new Map<string, Map<string, { wall: number[]; cpu: number[] }>>(models.map((m) => [m.name, new Map()]));
  const record = (model: string, contender: string, ms: number, cpuMs: number): void => {
    const byContender = times.get(model)!;
    if (!byContender.has(contender)) byContender.set(contender, { wall: [], cpu: [] });
    byContender.get(contender)!.wall.push(ms);
    byContender.get(contender)!.cpu.push(cpuMs);
  };
  const medvaeSteps = (m: ModelBench, v: MedvaeVariant, n: number, keep: boolean): void => {
    v.setup();
    for (let s = 0; s < n; s++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      m.step();
      const c = process.cpuUsage(c0);
      if (keep) record(m.name, v.name, performance.now() - t0, (c.user + c.system) / 1000);
    }
  };
  const torchSteps = async (m: ModelBench, n: number, keep: boolean): Promise<void> => {
    if (!torch) return;
    for (const threads of [1, 2]) {
      for (let s = 0; s < n; s++) {
        const { ms, cpuMs } = await torch.request<{ ms: number; cpuMs: number }>({ cmd: 'step', name: m.name, threads });
        if (keep) record(m.name, `PyTorch ${threads} thread${threads > 1 ? 's' : ''}`, ms, cpuMs);
      }
    }
  };

  // Warm-up: one step of every contender, nothing recorded.
  for (const m of models) {
    for (const v of variants) medvaeSteps(m, v, 1, false);
    await torchSteps(m, 1, false);
  }
  const tensorsAfterWarmup = tf.memory().numTensors;
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of models) {
      // Alternate the order so that no contender always runs right after another.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      if (round % 2 === 1) await torchSteps(m, STEPS, true);
      for (const v of order) medvaeSteps(m, v, STEPS, true);
      if (round % 2 === 0) await torchSteps(m, STEPS, true);
    }
    console.log(`round ${round + 1}/${ROUNDS} done, load ${loadAverage()}`);
  }
  // Leave the native kernels as they were found (installed when the addon loads).
  if (native.ok) installNativeKernels(native.addon, native.addonPath);
  console.log(kernelsLine());
  torch?.close();
  console.log(`load average at start ${loadStart}, at end ${loadAverage()}`);

  const ratio = (ms: number, ref: number | undefined): string => (ref !== undefined && Number.isFinite(ref) ? `${(ms / ref).toFixed(2)}×` : '–');
  for (const m of models) {
    const rows = times.get(m.name)!;
    const ref = (name: string, kind: 'wall' | 'cpu'): number | undefined => (rows.has(name) ? median(rows.get(name)![kind]) : undefined);
    const [torch1, torch2] = [ref('PyTorch 1 thread', 'wall'), ref('PyTorch 2 threads', 'wall')];
    const [torch1Cpu, torch2Cpu] = [ref('PyTorch 1 thread', 'cpu'), ref('PyTorch 2 threads', 'cpu')];
    console.log(`\n## ${m.describe}`);
    printTable(
      ['contender', 'median ms/step', 'min', 'steps timed', 'this / PyTorch 1 thr', 'this / PyTorch 2 thr', 'CPU ms/step', 'CPU / PyTorch 1 thr', 'CPU / PyTorch 2 thr'],
      [...rows].map(([name, { wall, cpu }]) => {
        const med = median(wall);
        const medCpu = median(cpu);
        return [name, fmtMs(med), fmtMs(Math.min(...wall)), String(wall.length), ratio(med, torch1), ratio(med, torch2), fmtMs(medCpu), ratio(medCpu, torch1Cpu), ratio(medCpu, torch2Cpu)];
      }),
    );
  }
  const tensorsAfter = tf.memory().numTensors;
  for (const m of models) m.dispose();
  console.log(`live tensors: ${tensorsAfterWarmup} after warm-up, ${tensorsAfter} after the last round; tensors left: ${tf.memory().numTensors}`);
}

await main();
