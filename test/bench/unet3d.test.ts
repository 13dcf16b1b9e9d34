// bench/unet3d.ts (npm run bench:unet3d) runs end to end in --quick mode, so that it cannot rot: a tiny
// 3-D U-Net step on wasm (+ native when the addon loads), and PyTorch when /usr/bin/python3 has torch;
// the PyTorch rows must then be present with a parameter count equal to medvae's (the two networks are
// the same) and the ratio line printed, otherwise the benchmark must say why it skipped them.
import { describe, expect, it } from 'vitest';
import { expectEqualParams, expectTorchRows, runQuickBench, torchChecked } from './quick-bench.js';

describe('bench/unet3d.ts --quick', () => {
  it('prints a table with every contender and leaves no tensors', async () => {
    const out = await runQuickBench('unet3d.ts', ['--quick']);
    expect(out).toMatch(/\| medvae pure wasm +\| +[\d.]+ \|/);
    expect(out).toContain('tensors left: 0');
    if (!torchChecked(out)) return;
    expectTorchRows(out);
    expectEqualParams(out);
    if (out.includes('medvae wasm + native')) {
      expect(out).toMatch(/medvae wasm \+ native \/ PyTorch: [\d.]+× \(1 thread\), [\d.]+× \(2 threads\)/);
      expect(out).toMatch(/CPU time per step, medvae wasm \+ native \/ PyTorch 1 thread: [\d.]+×/);
    }
  }, 300_000);
});
