import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

interface Metrics {
  negElbo: number;
  reconstruction: number;
  kl: number;
  reconstructionDice: number;
}
interface ModelReport {
  untrained: Metrics;
  test: Metrics;
  files: string[];
}

describe('examples/vae-mnist.ts --quick', () => {
  it('trains a VAE and a VAE-GAN on binarised MNIST and writes their grids', async () => {
    const { out, summary } = await runExample('vae-mnist');
    const models = summary.models as Record<'vae' | 'vaegan', ModelReport>;
    expect(summary.latentDim).toBe(128);
    // Floors that show learning happened in the quick run (4,096 digits; the VAE 5 epochs, the
    // VAE-GAN 3). The untrained models score ≈ 500 nats (about 784·ln 2, a coin flip per pixel).
    // - VAE: below 60 % of its untrained negative ELBO (it reached ≈ 220 nats vs ≈ 507).
    expect(models.vae.test.negElbo).toBeLessThan(0.6 * models.vae.untrained.negElbo);
    // - VAE-GAN: below 85 % of its untrained value (≈ 263 vs ≈ 507 after only 96 steps, on pure wasm
    //   and with medvae-native alike; its prior samples are still noise at that point, so no floor on
    //   their MNIST score here).
    expect(models.vaegan.test.negElbo).toBeLessThan(0.85 * models.vaegan.untrained.negElbo);
    // - both reconstruct digit pixels: thresholded reconstructions overlap the digits (Dice ≈ 0.20
    //   and ≈ 0.33), where the untrained decoders overlap nothing (Dice ≈ 0).
    for (const m of [models.vae, models.vaegan]) {
      expect(m.test.reconstructionDice).toBeGreaterThan(m.untrained.reconstructionDice + 0.08);
      expect(Number.isFinite(m.test.kl) && m.test.kl > 0).toBe(true);
    }
    // The sample yardstick (an MNIST classifier) is trained and reported with the models' sample scores.
    expect((summary.sampleQuality as { classifierTestAccuracy: number }).classifierTestAccuracy).toBeGreaterThan(0.85);
    for (const name of ['vae', 'vaegan']) {
      for (const kind of ['reconstructions', 'samples', 'interpolations']) {
        const file = join(out, `${name}-${kind}.png`);
        expect(existsSync(file), file).toBe(true);
        expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
      }
    }
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toContain('<path');
    rmSync(out, { recursive: true, force: true });
  }, 560_000);

  it('with --latent 2 writes a latent scatter plot coloured by digit and the decoded manifold', async () => {
    const { out, summary } = await runExample('vae-mnist', ['--model', 'vae', '--latent', '2', '--epochs', '2']);
    const models = summary.models as Record<string, ModelReport>;
    expect(Object.keys(models)).toEqual(['vae']);
    expect(summary.latentDim).toBe(2);
    // Even a 2-D code learns something in 2 quick epochs.
    expect(models.vae.test.negElbo).toBeLessThan(0.8 * models.vae.untrained.negElbo);
    const svg = readFileSync(join(out, 'vae-latent-scatter.svg'), 'utf8');
    // One dot per test digit (1,000 in quick mode) plus one legend dot per digit class.
    expect(svg.match(/<circle /g)?.length).toBe(1000 + 10);
    for (let d = 0; d < 10; d++) expect(svg).toContain(`>digit ${d}</text>`);
    expect(readFileSync(join(out, 'vae-latent-manifold.png')).subarray(1, 4).toString()).toBe('PNG');
    rmSync(out, { recursive: true, force: true });
  }, 560_000);
});
