import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('npm run example (segment-brain --quick)', () => {
  it('trains a UNetSegmenter on the embedded Colin27 slices and writes its results', async () => {
    const { out, summary } = await runExample('segment-brain');
    const heldOut = summary.heldOut as Record<string, number>;
    const history = summary.history as { loss: number }[];
    // Floors that show learning happened in the quick run (64 slices at 64×64, a few epochs):
    // the loss falls, and held-out Dice beats predicting "all brain" (≈ 0.45 on these slices).
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss * 0.8);
    expect(heldOut.dice).toBeGreaterThan(0.6);
    expect(Number.isFinite(heldOut.hd95)).toBe(true);
    for (const f of ['overlays.png', 'loss.svg', 'model/model.json', 'model/weights.bin']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'overlays.png')).subarray(1, 4).toString()).toBe('PNG');
    // The summary says which kernels ran: the native ones wherever the addon built (build-status.txt
    // says ok) and MEDVAE_NATIVE does not turn them off, else medvae's pure-wasm ones.
    const status = 'packages/medvae-native/build-status.txt';
    const native = existsSync(status) && readFileSync(status, 'utf8').startsWith('ok') && process.env.MEDVAE_NATIVE !== '0';
    if (native) expect(summary.kernels).toMatch(/^wasm \+ medvae-native \(OpenBLAS, \d+ threads\)$/);
    else expect(summary.kernels).toBe('wasm (pure; medvae-native not active)');
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
