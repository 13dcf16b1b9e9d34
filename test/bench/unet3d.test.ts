// bench/unet3d.ts (npm run bench:unet3d) runs end to end in --quick mode, so that it cannot rot: a tiny
// 3-D U-Net step on wasm (+ native when the addon loads), and PyTorch when /usr/bin/python3 has torch;
// the PyTorch rows must then be present with a parameter count equal to medvae's (the two networks are
// the same) and the ratio line printed, otherwise the benchmark must say why it skipped them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { torchUnavailable } from '../../bench/torch-worker.js';

describe('bench/unet3d.ts --quick', () => {
  it('prints a table with every contender and leaves no tensors', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/unet3d.ts', '--quick'], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/\| medvae pure wasm +\| +[\d.]+ \|/);
    expect(out).toContain('tensors left: 0');
    const noTorch = torchUnavailable();
    if (noTorch !== null) {
      console.log(`PyTorch side not checked: ${noTorch}`);
      expect(out).toContain('PyTorch skipped');
      return;
    }
    expect(out).toMatch(/\| PyTorch 1 thread +\| +[\d.]+ \|/);
    expect(out).toMatch(/\| PyTorch 2 threads +\| +[\d.]+ \|/);
    const params = /PyTorch [^,]+, (\d+) parameters \(medvae: (\d+)\)/.exec(out);
    expect(params, out).not.toBeNull();
    expect(params![1]).toBe(params![2]);
    if (out.includes('medvae wasm + native')) {
      expect(out).toMatch(/medvae wasm \+ native \/ PyTorch: [\d.]+× \(1 thread\), [\d.]+× \(2 threads\)/);
      expect(out).toMatch(/CPU time per step, medvae wasm \+ native \/ PyTorch 1 thread: [\d.]+×/);
    }
  }, 300_000);
});
