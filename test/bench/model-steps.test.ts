// bench/model-steps.ts (npm run bench:model-steps) runs end to end in --quick mode, so that it cannot
// rot: the examples' VAE and DDPM steps on wasm (+ native when the addon loads, and pure wasm), and
// PyTorch when /usr/bin/python3 has torch; the PyTorch rows must then be present for both models,
// built from medvae's export with parameter counts equal to medvae's, otherwise the benchmark must
// say why it skipped them. The live tensor count must not grow from round to round.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { torchUnavailable } from '../../bench/torch-worker.js';

describe('bench/model-steps.ts --quick', () => {
  it('prints both models with every contender and leaks no tensors per step', async () => {
    // Asynchronous, so that the test worker keeps answering vitest while the benchmark runs.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/model-steps.ts', '--quick', '--pure-wasm'], { encoding: 'utf8', timeout: 240_000 });
    const sections = out.split('\n## ').slice(1);
    expect(sections.map((s) => s.split(' ')[0])).toEqual(['VAE', 'DDPM']);
    for (const s of sections) expect(s).toMatch(/\| medvae pure wasm +\| +[\d.]+ \|/);
    const live = /live tensors: (\d+) after warm-up, (\d+) after the last round/.exec(out);
    expect(live, out).not.toBeNull();
    expect(live![2]).toBe(live![1]);
    const noTorch = torchUnavailable();
    if (noTorch !== null) {
      console.log(`PyTorch side not checked: ${noTorch}`);
      expect(out).toContain('PyTorch skipped');
      return;
    }
    for (const s of sections) {
      expect(s).toMatch(/\| PyTorch 1 thread +\| +[\d.]+ \|/);
      expect(s).toMatch(/\| PyTorch 2 threads +\| +[\d.]+ \|/);
      expect(s).toMatch(/\| medvae pure wasm +\| +[\d.]+ \| +[\d.]+ \| +\d+ \| +[\d.]+× \|/);
    }
    for (const model of ['VAE', 'DDPM']) {
      const params = new RegExp(`^${model}: PyTorch [^,]+, (\\d+) parameters \\(medvae: (\\d+)\\)`, 'm').exec(out);
      expect(params, out).not.toBeNull();
      expect(params![1]).toBe(params![2]);
    }
  }, 300_000);
});
