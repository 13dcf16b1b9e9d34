// A PyTorch 1.13 U-Net training step in a child process (bench/unet_step.py --serve), driven one step
// at a time so that the benchmarks can interleave it with tfjs steps. Not part of the library.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The interpreter that has torch (see COMMON.md: not the `python3` first on PATH). */
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
export class TorchWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = '';

  constructor() {
    this.proc = spawn(PYTHON, [SCRIPT, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  private request<T>(msg: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`unet_step.py exited (${code}): ${this.stderr.trim()}`));
      this.proc.once('exit', onExit);
      this.pending.push((line) => {
        this.proc.off('exit', onExit);
        const reply = JSON.parse(line) as T & { error?: string };
        if (reply.error) reject(new Error(reply.error));
        else resolve(reply);
      });
      this.proc.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Builds the network, Adam and a random batch `[batch, 1, size, size]` in both layouts. */
  setup(batch: number, size: number): Promise<{ params: number; torch: string }> {
    return this.request({ cmd: 'setup', batch, size });
  }

  /** One training step; returns the milliseconds PyTorch measured for it (excluding the pipe). */
  async step(format: TorchFormat, threads: number): Promise<{ ms: number; loss: number }> {
    return this.request({ cmd: 'step', format, threads });
  }

  /** Ends the worker. */
  close(): void {
    this.proc.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.proc.stdin.end();
    this.lines.close();
  }
}
