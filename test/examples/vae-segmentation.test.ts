import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('examples/vae-segmentation.ts --quick', () => {
  it('trains a mask-decoding VAE on the embedded Colin27 slices and writes its results', async () => {
    const { out, summary } = await runExample('vae-segmentation');
    const heldOut = summary.heldOut as Record<string, number>;
    const history = summary.history as { loss: number }[];
    // Floors that show learning happened in the quick run (~58 slices at 64×64, 20 epochs; it
    // reached Dice ≈ 0.8 against ≈ 0.35 for "all brain"):
    // - the training loss (mask NLL + KL) falls by more than half from the first epoch;
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss * 0.5);
    // - held-out Dice beats predicting brain everywhere by a wide margin, and is itself decent;
    expect(heldOut.dice).toBeGreaterThan(heldOut.allForegroundDice + 0.2);
    expect(heldOut.dice).toBeGreaterThan(0.6);
    // - pixel accuracy beats always answering the commoner class (background), and most brain is found.
    expect(heldOut.pixelAccuracy).toBeGreaterThan(heldOut.majorityClassAccuracy + 0.05);
    expect(heldOut.recall).toBeGreaterThan(0.6);
    for (const f of ['overlays.png', 'loss.svg', 'model/model.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'overlays.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toContain('<path');
    rmSync(out, { recursive: true, force: true });
  }, 560_000);
});
