import { ValueError } from '../core/errors.js';

/**
 * A model config field held wrong: missing, of the wrong type, out of range, or a field the model
 * does not have. Raised when a model is rebuilt from a config (`loadModel`, `X.load`, `X.fromConfig`),
 * usually because `model.json` was edited by hand or written by another program.
 */
export class ConfigError extends ValueError {
  static override readonly errorName: string = 'ConfigError';
  /** The field, as a dotted path inside the config (e.g. `'channels'`, `'vae.latentDim'`). */
  readonly field: string;

  constructor(message: string, field: string) {
    super(message);
    this.field = field;
  }
}

/** Where a field is being read, handed to each {@link ConfigField} parser. */
export interface ConfigContext {
  /** The field's dotted path inside the config. */
  readonly path: string;
  /** The config's name for messages, e.g. `'UNetSegmenter config'`. */
  readonly what: string;
  /** Throws the {@link ConfigError} saying the field must be `expected`. */
  fail(expected: string): never;
}

/**
 * How one config field is read: what it must hold (for messages) and a parser that returns the
 * value typed, or throws {@link ConfigError}. Built with the helpers of {@link configField}.
 */
export interface ConfigField<T> {
  /** What the field must hold, in words (e.g. `'a positive integer'`). */
  readonly expected: string;
  /** Whether the field may be absent (an option with a default, or one that older saves lack). */
  readonly optional: boolean;
  /** Checks and returns the value, or calls `ctx.fail`. */
  parse(value: unknown, ctx: ConfigContext): T;
}

/**
 * One {@link ConfigField} per key of `T`. Optional keys of `T` take {@link configField}.optional
 * fields; because every key must be listed, adding an option to a model's options type without
 * teaching its schema to read it is a compile error rather than an option silently lost on load.
 */
export type ConfigSchema<T> = { [K in keyof T]-?: ConfigField<T[K]> };

function field<T>(expected: string, ok: (value: unknown) => boolean, copy: (value: unknown) => T): ConfigField<T> {
  return { expected, optional: false, parse: (v, ctx) => (ok(v) ? copy(v) : ctx.fail(expected)) };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const asNumber = (v: unknown): number => v as number;

/**
 * Field readers for {@link ConfigSchema}s. Ranges are checked where a wrong value could not mean
 * anything (a width of 0); finer rules stay with the model's constructor, which checks them with
 * its own messages.
 */
export const configField = {
  /** An integer ≥ `min` (default 1). */
  int(min = 1): ConfigField<number> {
    return field(min === 1 ? 'a positive integer' : `an integer ≥ ${min}`, (v) => isInt(v) && v >= min, asNumber);
  },
  /** A finite number, optionally within [`min`, `max`]. */
  number(range: { min?: number; max?: number } = {}): ConfigField<number> {
    const { min, max } = range;
    const expected = min !== undefined && max !== undefined ? `a number in [${min}, ${max}]` : min !== undefined ? `a number ≥ ${min}` : max !== undefined ? `a number ≤ ${max}` : 'a finite number';
    return field(expected, (v) => isFiniteNumber(v) && (min === undefined || v >= min) && (max === undefined || v <= max), asNumber);
  },
  /** A finite number > 0. */
  positive(): ConfigField<number> {
    return field('a number > 0', (v) => isFiniteNumber(v) && v > 0, asNumber);
  },
  /** `true` or `false`. */
  bool(): ConfigField<boolean> {
    return field('true or false', (v) => typeof v === 'boolean', (v) => v === true);
  },
  /** One of the listed strings or numbers. */
  oneOf<S extends string | number>(allowed: readonly S[]): ConfigField<S> {
    const expected = `one of ${allowed.map((a) => JSON.stringify(a).replace(/"/g, "'")).join(', ')}`;
    const match = (v: unknown): S | undefined => allowed.find((a) => a === v);
    return { expected, optional: false, parse: (v, ctx) => match(v) ?? ctx.fail(expected) };
  },
  /** A list of integers ≥ `min` (default 1), with at least `minLength` entries (default 1). */
  intList(minLength = 1, min = 1): ConfigField<number[]> {
    const expected = `a list of ${minLength > 0 ? `at least ${minLength} ` : ''}integers ≥ ${min}`;
    return field(expected, (v) => Array.isArray(v) && v.length >= minLength && v.every((x) => isInt(x) && x >= min), (v) => [...(v as number[])]);
  },
  /** `[a, b]`, two values read by `item`. */
  pair<T>(item: ConfigField<T>): ConfigField<[T, T]> {
    const expected = `a pair [a, b] of ${item.expected}s`;
    return {
      expected, optional: false,
      parse: (v, ctx) => {
        if (!Array.isArray(v) || v.length !== 2) return ctx.fail(expected);
        const inner = { ...ctx, fail: () => ctx.fail(expected) };
        return [item.parse(v[0], inner), item.parse(v[1], inner)];
      },
    };
  },
  /** Either of two readers (the first that accepts the value). */
  either<A, B>(a: ConfigField<A>, b: ConfigField<B>): ConfigField<A | B> {
    const expected = `${a.expected} or ${b.expected}`;
    return {
      expected, optional: false,
      parse: (v, ctx) => {
        const first = tryParse(a, v, ctx);
        return first.ok ? first.value : b.parse(v, { ...ctx, fail: () => ctx.fail(expected) });
      },
    };
  },
  /** `null` or a value read by `inner`. */
  nullable<T>(inner: ConfigField<T>): ConfigField<T | null> {
    const expected = `null or ${inner.expected}`;
    return { expected, optional: inner.optional, parse: (v, ctx) => (v === null ? null : inner.parse(v, { ...ctx, fail: () => ctx.fail(expected) })) };
  },
  /** The same reader, but the field may be absent (the model's default then applies). */
  optional<T>(inner: ConfigField<T>): ConfigField<T | undefined> {
    return { ...inner, optional: true };
  },
  /** A nested object read by its own schema; its fields are reported by their dotted path. */
  object<T>(schema: ConfigSchema<T>): ConfigField<T> {
    return { expected: 'an object', optional: false, parse: (v, ctx) => readObject(v, schema, ctx) };
  },
};

// Runs `f` with a fail that only signals rejection, for `either`.
function tryParse<T>(f: ConfigField<T>, v: unknown, ctx: ConfigContext): { ok: true; value: T } | { ok: false } {
  const rejected = new Error('rejected');
  try {
    return { ok: true, value: f.parse(v, { ...ctx, fail: () => { throw rejected; } }) };
  } catch (err) {
    if (err === rejected) return { ok: false };
    throw err;
  }
}

function failAt(what: string, path: string, value: unknown): (expected: string) => never {
  return (expected) => {
    throw new ConfigError(
      `${what}: field '${path}' must be ${expected}, but ${value === undefined ? 'it is missing' : `it holds ${show(value)}`}. ` +
        'Fix the value in model.json (or in the config passed to fromConfig), or save the model again.',
      path,
    );
  };
}

function readObject<T>(raw: unknown, schema: ConfigSchema<T>, ctx: ConfigContext): T {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return ctx.fail('an object');
  const source = raw as Record<string, unknown>;
  const keys = Object.keys(schema) as (keyof T & string)[];
  const extra = Object.keys(source).filter((k) => !(keys as string[]).includes(k));
  if (extra.length > 0) {
    const where = ctx.path ? `field '${ctx.path}'` : 'the config';
    throw new ConfigError(
      `${ctx.what}: ${where} has ${extra.map((k) => `'${k}'`).join(', ')}, which the model does not know (its fields: ${keys.join(', ')}). ` +
        'Remove or rename them in model.json, or load the model with the medvae version that saved it.',
      ctx.path ? `${ctx.path}.${extra[0]}` : extra[0],
    );
  }
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const key of keys) {
    const f: ConfigField<unknown> = schema[key];
    const path = ctx.path ? `${ctx.path}.${key}` : key;
    const value = source[key];
    const fail = failAt(ctx.what, path, value);
    if (value === undefined) {
      if (f.optional) continue;
      fail(f.expected);
    }
    out[key] = f.parse(value, { path, what: ctx.what, fail });
  }
  return out as T;
}

/**
 * Reads a model's config (as saved in `model.json`) by its schema: every field present and of the
 * right type, no field the model does not know. `what` names the config in messages (e.g.
 * `'UNetSegmenter config'`).
 *
 * @throws {@link ConfigError} naming the first wrong field, what it must hold and what it holds.
 */
export function readConfig<T>(raw: unknown, schema: ConfigSchema<T>, what: string): T {
  const fail = (expected: string): never => {
    throw new ConfigError(`${what} must be ${expected}, but got ${show(raw)}. The save is not a medvae model.json, or it was edited; save the model again.`, '');
  };
  return readObject(raw, schema, { path: '', what, fail });
}
