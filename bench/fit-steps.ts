// Mean wall time of a training step of each model's fit on one backend (small models, so the
// per-step overhead of the loop, the readbacks included, is visible next to the compute).
// Run: npx tsx bench/fit-steps.ts [backend]   (default wasm; MEDVAE_NATIVE=0 for pure wasm)
import {
  AdversarialSegmenter, ArrayDataset, DCGAN, DDPM, Generator, LatentClassifier, UNetSegmenter, VAE, VAEGAN, imageArray,
  useBackend, type BackendName, type Callback, type Sample,
} from '../src/index.js';

const backend = (process.argv[2] ?? 'wasm') as BackendName;
await useBackend(backend);

function images(n: number, size: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, (_, i) => {
    const img = Float32Array.from({ length: size * size }, () => (g.random() < 0.4 ? 1 : 0));
    return { image: imageArray(img, [size, size]), mask: imageArray(img, [size, size]), label: i % 2 };
  });
}

/** Mean step time of the second epoch (the first warms up kernels and caches): its seconds / its steps. */
function timer(steps: number): { cb: Callback; ms: () => number } {
  let seconds = NaN;
  return {
    cb: { onEpochEnd: (r) => void (r.epoch === 1 ? (seconds = r.seconds) : undefined) },
    ms: () => (seconds * 1000) / steps,
  };
}

const data = new ArrayDataset(images(64, 16, 1));
const base = { epochs: 2, batchSize: 4, onProgress: 'none' as const };
const results: Record<string, number> = {};
const run = async (name: string, fit: (cb: Callback) => Promise<unknown>) => {
  const { cb, ms } = timer(data.length / base.batchSize);
  await fit(cb);
  results[name] = ms();
  console.log(`${name.padEnd(22)} ${ms().toFixed(1)} ms/step`);
};
await run('UNetSegmenter', (cb) => new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [8, 16], seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
await run('AdversarialSegmenter', (cb) => new AdversarialSegmenter({ inChannels: 1, numClasses: 2, channels: [8, 16], discriminatorChannels: [8, 16], seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
const vae = new VAE({ inChannels: 1, imageSize: [16, 16], latentDim: 4, channels: [8, 16], seed: 0 });
await run('VAE', (cb) => vae.fit(data, { ...base, callbacks: [cb] }));
await run('LatentClassifier', (cb) => new LatentClassifier(vae, { seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
await run('VAEGAN', (cb) => new VAEGAN({ inChannels: 1, imageSize: [16, 16], latentDim: 4, channels: [8, 16], discriminatorChannels: [8, 16], seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
await run('DCGAN', (cb) => new DCGAN({ latentDim: 8, imageSize: 16, imageChannels: 1, generatorChannels: [16, 8], discriminatorChannels: [8, 16], seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
await run('DDPM', (cb) => new DDPM({ inChannels: 1, channels: [8, 16], layersPerBlock: 1, numTrainTimesteps: 50, sampleSize: 16, normNumGroups: 4, seed: 0 }).fit(data, { ...base, callbacks: [cb] }));
console.log(JSON.stringify(results));
