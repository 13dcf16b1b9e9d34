// The option checks every fit, evaluate, model and layer constructor uses, so a bad value gets the same
// wording everywhere: what the option must be, what came, and (where useful) what to do.
import { ValueError } from './errors.js';

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Throws a {@link ValueError}: `<name> must be <expected>, but got <value>.` plus an optional hint. */
export function invalid(name: string, expected: string, value: unknown, hint?: string): never {
  throw new ValueError(`${name} must be ${expected}, but got ${show(value)}.${hint ? ` ${hint}` : ''}`);
}

/** `value` when it is an integer ≥ 1; a {@link ValueError} naming `name` otherwise. */
export function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) invalid(name, 'a positive integer', value);
  return value;
}

/** `value` when it is an integer ≥ 0; a {@link ValueError} naming `name` otherwise. */
export function nonNegativeInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) invalid(name, 'an integer ≥ 0', value);
  return value;
}

/** `value` when it is a finite number > 0; a {@link ValueError} naming `name` otherwise. */
export function positiveNumber(value: unknown, name: string, hint?: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalid(name, 'a finite number > 0', value, hint);
  return value;
}

/** `value` when it is a finite number ≥ 0; a {@link ValueError} naming `name` otherwise. */
export function nonNegativeNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) invalid(name, 'a finite number ≥ 0', value);
  return value;
}

/** `value` when it is a finite number; a {@link ValueError} naming `name` otherwise. */
export function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(name, 'a finite number', value);
  return value;
}

/** `value` when it lies in `[low, high]` (bounds excluded where `open` says so). */
export function numberInRange(value: unknown, name: string, low: number, high: number, open: { low?: boolean; high?: boolean } = {}): number {
  const ok = typeof value === 'number' && (open.low ? value > low : value >= low) && (open.high ? value < high : value <= high);
  if (!ok) invalid(name, `a number in ${open.low ? '(' : '['}${low}, ${high}${open.high ? ')' : ']'}`, value);
  return value as number;
}

/** `value` when it is one of `allowed`; a {@link ValueError} listing them otherwise. */
export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) invalid(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/** `value` when it is a non-empty array of positive integers (layer widths and the like). */
export function positiveIntList(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((c) => Number.isInteger(c) && c > 0)) {
    invalid(name, 'a non-empty list of positive integers', value);
  }
  return [...(value as number[])];
}

/** Runs `check` on `value` unless it is undefined (an option left at its default). */
export function optional<T>(value: T | undefined, check: (v: T) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}
