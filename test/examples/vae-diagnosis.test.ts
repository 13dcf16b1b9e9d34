import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

const debianLesions = existsSync('/usr/share/doc/mricron/examples/dataset/1.voi');

describe('examples/vae-diagnosis.ts --quick', () => {
  it('tells lesion from normal slices with a latent classifier on a VAE and writes the ROC curve and error maps', async () => {
    if (!debianLesions) console.warn('mricron-doc lesion masks absent: the example runs on its synthetic-lesion fallback');
    const { out, summary } = await runExample('vae-diagnosis');
    const heldOut = summary.heldOut as Record<string, number>;
    const split = summary.split as { heldOut: { images: number; lesion: number } };
    expect(summary.syntheticLesions).toBe(!debianLesions);
    // Balanced held-out set: one normal slice per lesion slice (≈ 100 images from 5 unseen lesions).
    expect(split.heldOut.lesion * 2).toBe(split.heldOut.images);
    // Floor that shows learning: chance is AUC 0.5, and with ~100 held-out images its standard
    // error is ≈ 0.06, so 0.65 is well clear of chance (the quick run reached ≈ 0.85).
    expect(heldOut.rocAuc).toBeGreaterThan(0.65);
    // Thresholded predictions beat a coin on both classes together.
    expect(heldOut.sensitivity + heldOut.specificity).toBeGreaterThan(1.15);
    const history = summary.vaeHistory as { loss: number }[];
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss);
    const cls = summary.classifierLoss as { first: number; last: number };
    expect(cls.last).toBeLessThan(cls.first * 0.8);
    for (const f of ['roc.svg', 'reconstruction-error.png', 'loss.svg', 'model/model.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'reconstruction-error.png')).subarray(1, 4).toString()).toBe('PNG');
    const roc = readFileSync(join(out, 'roc.svg'), 'utf8');
    expect(roc).toContain('stroke-dasharray');
    expect(roc).toContain('held-out ROC (AUC');
    rmSync(out, { recursive: true, force: true });
  }, 560_000);

  it('falls back to synthetic ellipse lesions when no lesion masks are found, and says so', async () => {
    const { out, summary } = await runExample('vae-diagnosis', ['--data', '/nonexistent-medvae-lesions']);
    expect(summary.syntheticLesions).toBe(true);
    expect(String(summary.lesions)).toMatch(/synthetic ellipse lesions/);
    // Learning floor on ~86 held-out images (standard error ≈ 0.06 around chance; the run reached ≈ 0.77).
    expect((summary.heldOut as Record<string, number>).rocAuc).toBeGreaterThan(0.6);
    const cls = summary.classifierLoss as { first: number; last: number };
    expect(cls.last).toBeLessThan(cls.first * 0.95);
    expect(existsSync(join(out, 'reconstruction-error.png'))).toBe(true);
    rmSync(out, { recursive: true, force: true });
  }, 560_000);
});

