// bench/main-job.ts (npm run bench:main-job) runs end to end in --quick mode, so that it cannot rot:
// a tiny UNetSegmenter through fit on wasm (+ native when the addon loads), and PyTorch when
// /usr/bin/python3 has torch; the PyTorch rows must then be present, with a parameter count equal
// to medvae's (the two networks are the same), otherwise the benchmark must say why it skipped them.
import { describe, expect, it } from 'vitest';
import { expectEqualParams, expectTorchRows, runQuickBench, torchChecked } from './quick-bench.js';

describe('bench/main-job.ts --quick', () => {
  it('prints a table with every contender and leaves no tensors', async () => {
    const out = await runQuickBench('main-job.ts', ['--quick']);
    expect(out).toMatch(/\| medvae pure wasm +\| +[\d.]+ \|/);
    expect(out).toContain('tensors left: 0');
    if (!torchChecked(out)) return;
    expectTorchRows(out);
    expectEqualParams(out);
  }, 300_000);
});
