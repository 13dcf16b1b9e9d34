import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('npm run example:intensity-robustness (--quick)', () => {
  it('trains on axial slices and scores coronal + sagittal ones under every intensity shift', async () => {
    const { out, summary } = await runExample('intensity-robustness');
    const rows = summary.pooledDice as Record<string, Record<string, number>>;
    const row = rows['normalised + augmented'];
    expect(Object.keys(row)).toEqual(['clean', 'gamma 1.6', 'gamma 0.6', 'noise σ 0.05', 'bias 1 + 0.3·sin', '×255', 'trainSeconds']);
    // The quick run (36 axial slices at 64×64, 8 epochs; clean 0.80 when written) learns something
    // of the unseen planes: more than calling every pixel brain (≈ 0.45 on these slices).
    expect(row.clean).toBeGreaterThan(0.6);
    for (const [name, dice] of Object.entries(row)) if (name !== 'trainSeconds') expect(dice, name).toBeLessThanOrEqual(1);
    // Percentile scaling is indifferent to a gain, so ×255 scores what the clean slices score.
    expect(row['×255']).toBeCloseTo(row.clean, 2);
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
