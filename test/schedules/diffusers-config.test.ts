// diffusers scheduler_config.json files read and written by medvae, checked against files written
// by genuine diffusers code (test/fixtures/schedules/gen_diffusers_configs.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  DDPMScheduler,
  DIFFUSERS_CONFIG_VERSION,
  ValueError,
  parseDiffusersSchedulerConfig,
  type DiffusersSchedulerConfig,
} from '../../src/index.js';
import { expectClose } from '../helpers/tf.js';

interface Case {
  class: 'DDPMScheduler' | 'DDIMScheduler';
  kwargs: Record<string, unknown>;
  json: DiffusersSchedulerConfig;
  alphas_cumprod: Record<string, number>;
}
interface CrossCase {
  source: DiffusersSchedulerConfig;
  target: 'DDPMScheduler' | 'DDIMScheduler';
  json: DiffusersSchedulerConfig;
  alphas_cumprod: Record<string, number>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/schedules/diffusers_configs.json', import.meta.url), 'utf8')) as {
  diffusers_version: string;
  cases: Case[];
  cross: CrossCase[];
};

const classes = { DDPMScheduler, DDIMScheduler };

// ᾱ: medvae keeps float64, diffusers float32 (its cumprod over 1000 steps drifts by ~1e-5 relative).
function expectSameSchedule(s: DDPMScheduler | DDIMScheduler, expected: Record<string, number>, what: string): void {
  const ts = Object.keys(expected).map(Number);
  expectClose(ts.map((t) => s.alphasCumprod[t]), ts.map((t) => expected[String(t)]), 1e-4, 1e-7, `${what} alphas_cumprod`);
}

// The keys a diffusers class itself takes (those medvae writes), from diffusers' own default file.
function ownKeys(cls: 'DDPMScheduler' | 'DDIMScheduler'): string[] {
  return Object.keys(fixture.cases.find((c) => c.class === cls && Object.keys(c.kwargs).length === 0)?.json ?? {});
}

describe('diffusers scheduler_config.json', () => {
  it('the fixture comes from the diffusers version medvae writes', () => {
    expect(fixture.diffusers_version).toBe(DIFFUSERS_CONFIG_VERSION);
  });

  for (const c of fixture.cases) {
    it(`${c.class}(${JSON.stringify(c.kwargs)}): reads diffusers' file to the same schedule and writes the same file`, () => {
      const s = classes[c.class].fromDiffusersConfig(JSON.stringify(c.json), { unknownKeys: 'error' });
      expectSameSchedule(s, c.alphas_cumprod, c.class);
      expect(JSON.stringify(s.toDiffusersConfig(), null, 2)).toBe(JSON.stringify(c.json, null, 2));
      // A scheduler built in medvae with the same settings writes the same file too.
      const built = c.class === 'DDPMScheduler'
        ? new DDPMScheduler(parseDiffusersSchedulerConfig(c.kwargs, 'DDPMScheduler').config as ConstructorParameters<typeof DDPMScheduler>[0])
        : new DDIMScheduler(parseDiffusersSchedulerConfig(c.kwargs, 'DDIMScheduler').config);
      expect(built.toDiffusersConfig()).toEqual(c.json);
      expect(classes[c.class].fromDiffusersConfig(built.toDiffusersConfig()).config).toEqual(built.config);
    });
  }

  for (const c of fixture.cross) {
    it(`${c.target} reads a ${String(c.source._class_name)} config as diffusers' from_config does`, () => {
      const s = classes[c.target].fromDiffusersConfig(c.source);
      expectSameSchedule(s, c.alphas_cumprod, c.target);
      // diffusers also carries the other class's keys along; medvae keeps only its own.
      const own = ownKeys(c.target);
      const expected = Object.fromEntries(Object.entries(c.json).filter(([k]) => own.includes(k)));
      expect(s.toDiffusersConfig()).toEqual({ ...expected, _class_name: c.target, _diffusers_version: DIFFUSERS_CONFIG_VERSION });
      const parsed = parseDiffusersSchedulerConfig(c.source, c.target);
      expect(parsed.className).toBe(c.source._class_name);
      expect(parsed.diffusersVersion).toBe(c.source._diffusers_version);
      expect(parsed.ignoredKeys.sort()).toEqual(Object.keys(c.source).filter((k) => !k.startsWith('_') && !own.includes(k)).sort());
      if (parsed.ignoredKeys.length > 0) {
        expect(() => classes[c.target].fromDiffusersConfig(c.source, { unknownKeys: 'error' })).toThrow(new RegExp(parsed.ignoredKeys[0]));
      }
    });
  }

  it('refuses what medvae cannot honour, with ValueErrors that say what to do', () => {
    expect(() => DDPMScheduler.fromDiffusersConfig({ thresholding: true })).toThrow(/thresholding/);
    expect(() => DDPMScheduler.fromDiffusersConfig({ beta_schedule: 'laplace' })).toThrow(ValueError);
    expect(() => DDPMScheduler.fromDiffusersConfig({ variance_type: 'fixed_tiny' })).toThrow(/varianceType/);
    expect(() => DDPMScheduler.fromDiffusersConfig({ num_train_timesteps: '1000' })).toThrow(/"num_train_timesteps" must be an integer/);
    expect(() => DDIMScheduler.fromDiffusersConfig({ set_alpha_to_one: 1 })).toThrow(/true or false/);
    expect(() => DDIMScheduler.fromDiffusersConfig({ trained_betas: [0.1, 'x'] })).toThrow(/array of numbers/);
    expect(() => DDIMScheduler.fromDiffusersConfig('{"beta_start": ')).toThrow(/not valid JSON/);
    expect(() => DDIMScheduler.fromDiffusersConfig('[1, 2]')).toThrow(/JSON object/);
    expect(() => new DDIMScheduler({ betaSchedule: 'sigmoid' }).toDiffusersConfig()).toThrow(/sigmoid/);
    const sigmoid = new DDPMScheduler({ betaSchedule: 'sigmoid', numTrainTimesteps: 10 });
    const viaBetas = new DDIMScheduler({ trainedBetas: Array.from(sigmoid.betas), numTrainTimesteps: 10 });
    expect(viaBetas.toDiffusersConfig().trained_betas).toHaveLength(10);
  });
});
