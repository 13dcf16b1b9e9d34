// Shared by the benchmark tests: run a benchmark script in --quick mode and check the rows every
// medvae-vs-PyTorch benchmark prints.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { torchUnavailable } from '../../bench/torch-worker.js';

/**
 * Runs `bench/<script>` with `args` and returns its stdout (a non-zero exit fails the test with its
 * stderr). Asynchronous, so that the test worker keeps answering vitest while the benchmark runs
 * (a synchronous child of a minute starves vitest's RPC on a loaded machine).
 */
export async function runQuickBench(script: string, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `bench/${script}`, ...args], { encoding: 'utf8', timeout: 240_000, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * True when PyTorch rows can be checked; otherwise prints why not and checks that the benchmark said
 * it skipped them.
 */
export function torchChecked(out: string): boolean {
  const noTorch = torchUnavailable();
  if (noTorch === null) return true;
  console.log(`PyTorch side not checked: ${noTorch}`);
  expect(out).toContain('PyTorch skipped');
  return false;
}

/** The PyTorch 1- and 2-thread rows exist in `table`. */
export function expectTorchRows(table: string): void {
  expect(table).toMatch(/\| PyTorch 1 thread +\| +[\d.]+ \|/);
  expect(table).toMatch(/\| PyTorch 2 threads +\| +[\d.]+ \|/);
}

/** PyTorch's parameter count (first group of `line`) equals medvae's (second group). */
export function expectEqualParams(out: string, line = /PyTorch [^,]+, (\d+) parameters \(medvae: (\d+)\)/): void {
  const params = line.exec(out);
  expect(params, out).not.toBeNull();
  expect(params![1]).toBe(params![2]);
}
