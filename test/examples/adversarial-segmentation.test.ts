import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('npm run example:adversarial-segmentation (--quick)', () => {
  it('trains a U-Net baseline and an AdversarialSegmenter on the Colin27 slices and reports both', async () => {
    const { out, summary } = await runExample('adversarial-segmentation');
    const base = summary.baseline as { heldOut: Record<string, number> };
    const adv = summary.adversarial as { heldOut: Record<string, number>; history: { segmentation: number; adversarial: number; discriminator: number }[] };
    // Floors that show learning happened in the quick run (64 slices at 64×64, 12 epochs; seed 0 on
    // wasm gave held-out Dice ≈ 0.84 for both): Dice well above predicting "all brain" (≈ 0.45 on
    // these slices), finite HD95, and the adversarial model's Dice + CE part falling as the baseline's.
    for (const m of [base.heldOut, adv.heldOut]) {
      expect(m.dice).toBeGreaterThan(0.7);
      expect(m.precision).toBeGreaterThan(0.6);
      expect(Number.isFinite(m.hd95)).toBe(true);
    }
    const h = adv.history;
    expect(h[h.length - 1].segmentation).toBeLessThan(0.5 * h[0].segmentation);
    for (const r of h) for (const v of [r.adversarial, r.discriminator]) expect(Number.isFinite(v)).toBe(true);
    for (const f of summary.files as string[]) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'overlays.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true, force: true });
  }, 420_000); // a few minutes on two busy cores
});
