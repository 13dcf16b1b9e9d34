// The PyTorch side of bench/main-job.ts: bench/main_job.py --serve in a child process, driven one
// training step at a time so that its steps interleave with medvae's. Not part of the library.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './torch-worker.js';

export { torchUnavailable } from './torch-worker.js';

const SCRIPT = fileURLToPath(new URL('./main_job.py', import.meta.url));

/** A running `main_job.py --serve` worker. */
export class MainJobTorch {
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
      const onExit = (code: number | null): void => reject(new Error(`main_job.py exited (${code}): ${this.stderr.trim()}`));
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

  /** Builds the network (1 input channel, `classes` outputs), Adam and a random batch `[batch, 1, size, size]`. */
  setup(batch: number, size: number, channels: readonly number[], classes: number): Promise<{ params: number; torch: string }> {
    return this.request({ cmd: 'setup', batch, size, channels, classes });
  }

  /** One training step with `threads` threads; the milliseconds PyTorch measured (the pipe left out). */
  step(threads: number): Promise<{ ms: number; loss: number }> {
    return this.request({ cmd: 'step', threads });
  }

  /** Ends the worker. */
  close(): void {
    this.proc.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.proc.stdin.end();
    this.lines.close();
  }
}
