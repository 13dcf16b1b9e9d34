// A PyTorch 1.13 U-Net training step in a child process (bench/unet_step.py --serve), driven one step
// at a time so that the benchmarks can interleave it with tfjs steps. Not part of the library.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonLineWorker } from './json-line-worker.js';

/** The interpreter that has torch (Debian's, with python3-torch; not a `python3` that comes first on PATH). */
export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./unet_step.py', import.meta.url));

/** Memory layout of the PyTorch contender. */
export type TorchFormat = 'nchw' | 'channels_last';

/** Why PyTorch cannot run here, or null when `import torch` works under {@link PYTHON}. */
export function torchUnavailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import torch: ${r.stderr.trim().split('\n').pop()}`;
  return null;
}

/** A running `unet_step.py --serve` worker. */
export class TorchWorker extends JsonLineWorker {
  constructor() {
    super(PYTHON, SCRIPT);
  }

  /** Builds the network, Adam and a random batch `[batch, 1, size, size]` in both layouts. */
  setup(batch: number, size: number): Promise<{ params: number; torch: string }> {
    return this.request({ cmd: 'setup', batch, size });
  }

  /** One training step; returns the milliseconds PyTorch measured for it (excluding the pipe). */
  async step(format: TorchFormat, threads: number): Promise<{ ms: number; loss: number }> {
    return this.request({ cmd: 'step', format, threads });
  }
}
