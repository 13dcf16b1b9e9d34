// bench/model-steps.ts (npm run bench:model-steps) runs end to end in --quick mode, so that it cannot
// rot: the examples' VAE and DDPM steps on wasm (+ native when the addon loads, and pure wasm), and
// PyTorch when /usr/bin/python3 has torch; the PyTorch rows must then be present for both models,
// built from medvae's export with parameter counts equal to medvae's, otherwise the benchmark must
// say why it skipped them. The live tensor count must not grow from round to round.
import { describe, expect, it } from 'vitest';
import { expectEqualParams, expectTorchRows, runQuickBench, torchChecked } from './quick-bench.js';

describe('bench/model-steps.ts --quick', () => {
  it('prints both models with every contender and leaks no tensors per step', async () => {
    const out = await runQuickBench('model-steps.ts', ['--quick', '--pure-wasm']);
    const sections = out.split('\n## ').slice(1);
    expect(sections.map((s) => s.split(' ')[0])).toEqual(['VAE', 'DDPM']);
    for (const s of sections) expect(s).toMatch(/\| medvae pure wasm +\| +[\d.]+ \|/);
    const live = /live tensors: (\d+) after warm-up, (\d+) after the last round/.exec(out);
    expect(live, out).not.toBeNull();
    expect(live![2]).toBe(live![1]);
    if (!torchChecked(out)) return;
    for (const s of sections) {
      expectTorchRows(s);
      expect(s).toMatch(/\| medvae pure wasm +\| +[\d.]+ \| +[\d.]+ \| +\d+ \| +[\d.]+× \|/);
    }
    for (const model of ['VAE', 'DDPM']) expectEqualParams(out, new RegExp(`^${model}: PyTorch [^,]+, (\\d+) parameters \\(medvae: (\\d+)\\)`, 'm'));
  }, 300_000);
});
