// Argument checks shared by the normalisation layers (internal: not re-exported by the barrel).
import { ValueError } from '../core/errors.js';

/** Throws a ValueError unless `n` is a positive integer. */
export function checkPositiveInt(n: number, what: string): void {
  if (!Number.isInteger(n) || n <= 0) throw new ValueError(`${what} must be a positive integer, but got ${n}.`);
}

/** Throws a ValueError unless `eps` is a non-negative finite number; returns it. */
export function checkEps(eps: number, layer: string): number {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(`${layer} eps must be a non-negative finite number, but got ${eps}.`);
  return eps;
}

/** Throws a ValueError unless `momentum` is in [0, 1]; returns it. */
export function checkMomentum(momentum: number, layer: string): number {
  if (!(momentum >= 0 && momentum <= 1)) throw new ValueError(`${layer} momentum must be in [0, 1], but got ${momentum}.`);
  return momentum;
}
