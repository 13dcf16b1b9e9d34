import { ValueError } from '../core/errors.js';
import type { ResolvedSchedulerConfig, SchedulerConfig } from './scheduler-base.js';

/**
 * The diffusers version whose `scheduler_config.json` format medvae reads and writes (checked
 * against files written by that version's own `DDPMScheduler` / `DDIMScheduler`); written as
 * `_diffusers_version`.
 */
export const DIFFUSERS_CONFIG_VERSION = '0.40.0.dev0';

/** The two diffusers scheduler classes medvae has. */
export type DiffusersSchedulerClass = 'DDPMScheduler' | 'DDIMScheduler';

/**
 * A diffusers `scheduler_config.json` as parsed JSON: snake_case keys (`num_train_timesteps`,
 * `beta_schedule`, ...) plus diffusers' bookkeeping keys `_class_name` and `_diffusers_version`.
 */
export interface DiffusersSchedulerConfig {
  /** The diffusers class that wrote the file (e.g. `"DDPMScheduler"`). */
  _class_name?: string;
  /** The diffusers version that wrote the file. */
  _diffusers_version?: string;
  /** Every other key, as diffusers wrote it. */
  [key: string]: unknown;
}

/** Options of `DDPMScheduler.fromDiffusersConfig` / `DDIMScheduler.fromDiffusersConfig`. */
export interface FromDiffusersConfigOptions {
  /**
   * What to do with keys this scheduler class does not take (for example `set_alpha_to_one` in a
   * DDIM config loaded into a DDPM scheduler, or `skip_prk_steps` from a PNDM config):
   * `'ignore'` (default) skips them, as diffusers' own `from_config` does — that is how configs
   * move between scheduler classes; `'error'` throws a {@link ValueError} listing them.
   * {@link parseDiffusersSchedulerConfig} reports which keys were skipped.
   */
  unknownKeys?: 'ignore' | 'error';
}

/** What {@link parseDiffusersSchedulerConfig} found. */
export interface ParsedDiffusersSchedulerConfig {
  /** The medvae (camelCase) configuration, to pass to the scheduler's constructor. */
  config: SchedulerConfig & { varianceType?: string; setAlphaToOne?: boolean };
  /** Keys that the target class does not take and that were skipped. */
  ignoredKeys: string[];
  /** `_class_name` of the file, or null when absent. */
  className: string | null;
  /** `_diffusers_version` of the file, or null when absent. */
  diffusersVersion: string | null;
}

type Kind = 'int' | 'number' | 'boolean' | 'string' | 'betas';

// snake_case key → [camelCase option, value kind]; the keys both diffusers classes take.
const SHARED: Record<string, [string, Kind]> = {
  num_train_timesteps: ['numTrainTimesteps', 'int'],
  beta_start: ['betaStart', 'number'],
  beta_end: ['betaEnd', 'number'],
  beta_schedule: ['betaSchedule', 'string'],
  trained_betas: ['trainedBetas', 'betas'],
  clip_sample: ['clipSample', 'boolean'],
  clip_sample_range: ['clipSampleRange', 'number'],
  prediction_type: ['predictionType', 'string'],
  timestep_spacing: ['timestepSpacing', 'string'],
  steps_offset: ['stepsOffset', 'int'],
  rescale_betas_zero_snr: ['rescaleBetasZeroSnr', 'boolean'],
};

const OWN: Record<DiffusersSchedulerClass, Record<string, [string, Kind]>> = {
  DDPMScheduler: { variance_type: ['varianceType', 'string'] },
  DDIMScheduler: { set_alpha_to_one: ['setAlphaToOne', 'boolean'] },
};

// Dynamic thresholding (Imagen) options: medvae has no thresholding, so `thresholding` must be
// false; the two tuning values only act when it is true, and are written with diffusers' defaults.
const THRESHOLDING_DEFAULTS = { dynamic_thresholding_ratio: 0.995, sample_max_value: 1.0 } as const;

function checkKind(key: string, value: unknown, kind: Kind): unknown {
  const ok =
    kind === 'int' ? typeof value === 'number' && Number.isInteger(value)
      : kind === 'number' ? typeof value === 'number' && Number.isFinite(value)
        : kind === 'boolean' ? typeof value === 'boolean'
          : kind === 'string' ? typeof value === 'string'
            : value === null || (Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!ok) {
    const wanted = { int: 'an integer', number: 'a finite number', boolean: 'true or false', string: 'a string', betas: 'null or an array of numbers' }[kind];
    throw new ValueError(`diffusers scheduler config: "${key}" must be ${wanted}, but got ${JSON.stringify(value)}.`);
  }
  return value;
}

/**
 * Translates a diffusers `scheduler_config.json` (a JSON string or the parsed object) into the
 * options of medvae's `target` scheduler class. Every key the class takes is translated and
 * type-checked; values medvae cannot honour throw a {@link ValueError} rather than being dropped
 * (`thresholding: true`, a beta schedule or variance type medvae lacks — the constructor checks
 * names). `_`-prefixed bookkeeping keys are read, not translated.
 */
export function parseDiffusersSchedulerConfig(
  json: string | DiffusersSchedulerConfig,
  target: DiffusersSchedulerClass,
  options: FromDiffusersConfigOptions = {},
): ParsedDiffusersSchedulerConfig {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (err) {
      throw new ValueError(`diffusers scheduler config is not valid JSON (${(err as Error).message}); pass the text of scheduler_config.json or its parsed object.`);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValueError(`diffusers scheduler config must be a JSON object, but got ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}.`);
  }
  const unknownKeys = options.unknownKeys ?? 'ignore';
  if (unknownKeys !== 'ignore' && unknownKeys !== 'error') {
    throw new ValueError(`unknownKeys must be 'ignore' or 'error', but got ${JSON.stringify(unknownKeys)}.`);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const table = { ...SHARED, ...OWN[target] };
  const config: Record<string, unknown> = {};
  const ignoredKeys: string[] = [];
  for (const [key, value] of entries) {
    if (key.startsWith('_')) continue;
    const known = table[key];
    if (known) {
      config[known[0]] = checkKind(key, value, known[1]);
    } else if (key === 'thresholding') {
      if (checkKind(key, value, 'boolean') === true) {
        throw new ValueError(
          'diffusers scheduler config has "thresholding": true (dynamic thresholding of x₀), which medvae does not implement. ' +
            'Set it to false to use plain clipping (clip_sample), or keep the scheduler in diffusers.',
        );
      }
    } else if (key in THRESHOLDING_DEFAULTS) {
      checkKind(key, value, 'number');
    } else {
      ignoredKeys.push(key);
    }
  }
  if (ignoredKeys.length > 0 && unknownKeys === 'error') {
    throw new ValueError(
      `diffusers scheduler config has keys that medvae's ${target} does not take: ${ignoredKeys.join(', ')}. ` +
        "Remove them, or pass { unknownKeys: 'ignore' } to skip them as diffusers' from_config does.",
    );
  }
  const bookkeeping = raw as DiffusersSchedulerConfig;
  return {
    config: config as ParsedDiffusersSchedulerConfig['config'],
    ignoredKeys,
    className: typeof bookkeeping._class_name === 'string' ? bookkeeping._class_name : null,
    diffusersVersion: typeof bookkeeping._diffusers_version === 'string' ? bookkeeping._diffusers_version : null,
  };
}

/**
 * A resolved medvae scheduler config as diffusers writes it: `_class_name`, `_diffusers_version`
 * ({@link DIFFUSERS_CONFIG_VERSION}), then every key the class takes, sorted as diffusers' own
 * `to_json_string` sorts them. `JSON.stringify(result, null, 2)` is a `scheduler_config.json`.
 *
 * @throws {@link ValueError} for a DDIM config with the `'sigmoid'` beta schedule, which
 *   diffusers' DDIMScheduler does not accept.
 */
export function toDiffusersSchedulerConfig(
  config: ResolvedSchedulerConfig & { varianceType?: string; setAlphaToOne?: boolean },
  target: DiffusersSchedulerClass,
): DiffusersSchedulerConfig {
  if (target === 'DDIMScheduler' && config.betaSchedule === 'sigmoid' && config.trainedBetas === null) {
    throw new ValueError(
      "diffusers' DDIMScheduler has no 'sigmoid' beta schedule, so this config would not load there. " +
        'Pass the betas explicitly as trainedBetas (scheduler.betas), or use the DDPM scheduler.',
    );
  }
  const table = { ...SHARED, ...OWN[target] };
  const source = config as unknown as Record<string, unknown>;
  const body: Record<string, unknown> = { thresholding: false, ...THRESHOLDING_DEFAULTS };
  for (const [key, [option]] of Object.entries(table)) {
    const value = source[option];
    body[key] = Array.isArray(value) ? [...(value as number[])] : value;
  }
  const sorted = Object.keys(body).sort().map((k) => [k, body[k]] as const);
  return { _class_name: target, _diffusers_version: DIFFUSERS_CONFIG_VERSION, ...Object.fromEntries(sorted) };
}
