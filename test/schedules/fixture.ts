import { readFileSync } from 'node:fs';
import type { DDIMSchedulerConfig, DDPMSchedulerConfig, PredictionType, TimestepSpacing } from '../../src/index.js';

/** A number as the generator writes it: non-finite values are spelled as strings. */
export type Num = number | 'Infinity' | '-Infinity' | 'NaN';

/** Decodes fixture numbers (Infinity/NaN are strings in JSON). */
export function nums(a: readonly Num[]): number[] {
  return a.map((v) => (typeof v === 'number' ? v : Number(v)));
}

/** Picks `indices` out of a full array. */
export function pick(a: ArrayLike<number>, indices: readonly number[]): number[] {
  return indices.map((i) => a[i]);
}

/** Shape of test/fixtures/schedules/schedules.json (see gen_schedules.py). */
export interface SchedulesFixture {
  shape: number[];
  sample: number[];
  /** The model output of every DDIM case and of the DDPM cases with a fixed variance. */
  modelOutput: number[];
  noise: number[];
  betas: { name: string; T: number; params: { betaStart?: number; betaEnd?: number; maxBeta?: number }; indices: number[]; values: number[] }[];
  zeroTerminalSnr: { name: string; T: number; indices: number[]; betas: number[]; alphasCumprod: number[]; snr: number[] }[];
  terms: { name: string; T: number; indices: number[]; terms: Record<string, Num[]> }[];
  timesteps: { T: number; n: number; spacing: TimestepSpacing; stepsOffset: number; timesteps: number[] }[];
  ddpm: {
    config: DDPMSchedulerConfig; numInferenceSteps: number | null; t: number; prevT: number; modelOutput: number[];
    predOriginalSample: number[]; mean: number[]; prevSample: number[]; variance: number | null;
  }[];
  ddim: {
    config: DDIMSchedulerConfig; numInferenceSteps: number; t: number; prevT: number; eta: number; useClippedModelOutput: boolean;
    variance: number; predOriginalSample: number[]; prevSample: number[];
  }[];
  forward: {
    config: DDPMSchedulerConfig; timesteps: number[]; shape: number[]; sample: number[]; noise: number[]; noisy: number[]; velocity: number[];
  }[];
  minSnr: { config: DDPMSchedulerConfig; name: string; gamma: number; predictionType: PredictionType; timesteps: number[]; weights: number[] }[];
}

/** The parsed fixture. */
export const fx = JSON.parse(
  readFileSync(new URL('../fixtures/schedules/schedules.json', import.meta.url), 'utf8'),
) as SchedulesFixture;
