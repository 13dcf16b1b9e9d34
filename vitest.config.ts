import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Most test files share their worker's module cache (`isolate: false`): importing medvae, tfjs and
// the wasm backend costs ~5 s per file on 2 cores, which across ~130 files was most of `npm test`'s
// wall time. Files that replace kernels, register extra backends, mock modules or set process-wide
// environment variables keep a fresh module graph each (`isolated` below).
const ISOLATED = [
  'test/backend/**/*.test.ts',
  'test/browser/**/*.test.ts',
  'test/bundle/**/*.test.ts',
  // The DICOM codecs are Emscripten modules that register their bindings once per process.
  'test/data/readers/**/*.test.ts',
  'test/cli/**/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default is one worker less than the CPUs: a single worker on a 2-core machine, which
    // left one core idle while the worker waited on an example's child process or a browser.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // One OpenBLAS thread per worker (and per example it spawns): two workers each running
    // medvae-native's OpenBLAS on every core oversubscribed a 2-core machine. Benchmarks that
    // compare thread counts set them with setNativeThreads.
    env: { OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1' },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ISOLATED, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
});
