import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

interface ImageStats {
  finite: boolean;
  min: number;
  max: number;
  mean: number;
}

interface NearestStats {
  min: number;
  median: number;
}

describe('npm run example:ddpm-generation (--quick)', () => {
  it('trains a DDPM on Colin27 slices, samples with DDPM and DDIM, and writes its results', async () => {
    const { out, summary } = await runExample('ddpm-generation');
    const loss = summary.loss as { firstEpoch: number; lastEpoch: number };
    const samples = summary.samples as Record<'ddpm' | 'ddim', ImageStats>;
    const nn = summary.nearestNeighbour as Record<'ddpm' | 'ddim' | 'trainToTrain', NearestStats>;
    const quality = summary.quality as Record<'intensityW1' | 'meanImageRmse', Record<'ddim' | 'untrained', number>>;
    const sampling = summary.sampling as Record<'ddpm' | 'ddim', { steps: number; seconds: number }>;

    // Learning happened: the v-MSE of an untrained network is near 1, and the quick run (80 steps) brings
    // the last epoch's mean below half of the first epoch's (≈ 0.27 of it when this test was written).
    expect(loss.lastEpoch).toBeLessThan(loss.firstEpoch * 0.5);
    // The trained model's samples sit closer to the training intensities and head layout than the
    // untrained network's.
    expect(quality.intensityW1.ddim).toBeLessThan(quality.intensityW1.untrained);
    expect(quality.meanImageRmse.ddim).toBeLessThan(quality.meanImageRmse.untrained);
    // Samples are finite images in the data range [0, 1], not copies of training slices.
    for (const s of ['ddpm', 'ddim'] as const) {
      expect(samples[s].finite, s).toBe(true);
      expect(samples[s].min, s).toBeGreaterThanOrEqual(0);
      expect(samples[s].max, s).toBeLessThanOrEqual(1);
      expect(nn[s].min, s).toBeGreaterThan(0);
    }
    expect(nn.trainToTrain.median).toBeGreaterThan(0);
    expect(sampling.ddpm.steps).toBe((summary.config as { numTrainTimesteps: number }).numTrainTimesteps);
    for (const f of ['loss.svg', 'real.png', 'samples-ddpm.png', 'samples-ddim.png', 'overview.png', 'nearest-neighbours.png', 'model/model.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'overview.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toContain('<svg');
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
