import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

interface Quality { mnistScore: number; meanConfidence: number; classesSeen: number; nearestTrainingL2: number }

describe('npm run example:dcgan-mnist (--quick)', () => {
  it('trains a DCGAN on MNIST whose samples the yardstick classifier reads as varied digits', async () => {
    const { out, summary } = await runExample('dcgan-mnist');
    const final = summary.final as Record<string, number>;
    const q = summary.quality as { classifierTestAccuracy: number; trained: Quality; untrained: Quality; uniformNoise: Quality; realTestDigits: Quality };
    for (const k of ['discriminatorLoss', 'generatorLoss']) expect(Number.isFinite(final[k]), k).toBe(true);
    // Floors that show learning happened in the quick run (2,048 digits, 512 steps; seed 0 on wasm gave
    // MNIST score 3.0 with all 10 classes and nearest-digit L2 6.1, against 1.0 / 13.0 for the untrained
    // generator, 1.1 / 15.1 for uniform noise and 7.5 / 5.4 for real test digits):
    // - the yardstick itself works (≈ 92% test accuracy);
    expect(q.classifierTestAccuracy).toBeGreaterThan(0.85);
    // - the samples score well above the untrained generator and noise, and spread over many classes;
    expect(q.untrained.mnistScore).toBeLessThan(1.5);
    expect(q.trained.mnistScore).toBeGreaterThan(2);
    expect(q.trained.classesSeen).toBeGreaterThanOrEqual(6);
    // - and they moved most of the way from grey noise towards real digits in pixel space.
    expect(q.trained.nearestTrainingL2).toBeLessThan(0.7 * q.untrained.nearestTrainingL2);
    const files = summary.files as string[];
    expect(files).toContain('samples-epoch-01.png');
    for (const f of files) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'samples.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(out, 'losses.svg'), 'utf8')).toMatch(/^<svg/);
    rmSync(out, { recursive: true, force: true });
  }, 420_000); // a few minutes on two busy cores
});
