// A Python benchmark worker in a child process that answers one JSON line per JSON request, so a
// benchmark can interleave the worker's steps with medvae's. Not part of the library.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/** A running `<script> --serve` worker under `python`. */
export class JsonLineWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = '';

  constructor(
    python: string,
    private readonly script: string,
  ) {
    this.proc = spawn(python, [script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  /** Sends `msg` and resolves with the worker's reply (rejects on its `error` field or its exit). */
  request<T>(msg: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`${this.script} exited (${code}): ${this.stderr.trim()}`));
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

  /** Ends the worker. */
  close(): void {
    this.proc.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.proc.stdin.end();
    this.lines.close();
  }
}
