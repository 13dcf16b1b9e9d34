// The PyTorch side of bench/unet3d.ts: bench/unet3d.py --serve in a child process, driven one
// training step at a time so that its steps interleave with medvae's. Not part of the library.
import { fileURLToPath } from 'node:url';
import { JsonLineWorker } from './json-line-worker.js';
import { PYTHON } from './torch-worker.js';

export { torchUnavailable } from './torch-worker.js';

const SCRIPT = fileURLToPath(new URL('./unet3d.py', import.meta.url));

/** A running `unet3d.py --serve` worker. */
export class Unet3dTorch extends JsonLineWorker {
  constructor() {
    super(PYTHON, SCRIPT);
  }

  /** Builds the 3-D network (1 input channel, `classes` outputs), Adam and a random batch `[batch, 1, size, size, size]`. */
  setup(batch: number, size: number, channels: readonly number[], classes: number): Promise<{ params: number; torch: string }> {
    return this.request({ cmd: 'setup', batch, size, channels, classes });
  }

  /** One training step with `threads` threads; the wall and CPU (all threads) milliseconds PyTorch measured (the pipe left out). */
  step(threads: number): Promise<{ ms: number; loss: number; cpuMs: number }> {
    return this.request({ cmd: 'step', threads });
  }
}
