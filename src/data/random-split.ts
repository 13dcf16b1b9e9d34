import { ValueError } from '../core/errors.js';
import { toGenerator, type SeedLike } from '../core/random.js';
import { Subset, type Dataset } from './dataset.js';

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** Seed or generator for the permutation (default: the global generator). */
  seed?: SeedLike;
}

/**
 * Turns split sizes given as fractions or counts into counts, following
 * `torch.utils.data.random_split`: fractions that sum to 1 become `floor(n · f)` each, and the
 * `n − Σ` left over are handed out one at a time to the parts in order (round-robin).
 */
export function splitLengths(n: number, lengths: readonly number[]): number[] {
  if (lengths.length === 0) throw new ValueError('randomSplit needs at least one length, but got an empty list.');
  if (lengths.some((l) => !Number.isFinite(l) || l < 0)) {
    throw new ValueError(`randomSplit lengths must be non-negative numbers, but got [${lengths.join(', ')}].`);
  }
  const sum = lengths.reduce((a, b) => a + b, 0);
  // PyTorch's test (a sum within 1e-9 of 1 means fractions), minus its quirk of rejecting sums a
  // rounding error above 1 such as 0.1 + 0.2 + 0.7.
  if (Math.abs(sum - 1) <= 1e-9) {
    const counts = lengths.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
    return counts;
  }
  if (lengths.some((l) => !Number.isInteger(l))) {
    throw new ValueError(
      `randomSplit lengths must be fractions summing to 1 or integer counts, but got [${lengths.join(', ')}] (sum ${sum}).`,
    );
  }
  if (sum !== n) {
    throw new ValueError(
      `randomSplit counts [${lengths.join(', ')}] sum to ${sum}, but the dataset has ${n} items. ` +
        'Make the counts add up to the dataset length, or pass fractions such as [0.8, 0.2].',
    );
  }
  return lengths.slice();
}

/**
 * Splits a dataset into non-overlapping random subsets, as `torch.utils.data.random_split`.
 *
 * @param lengths - fractions summing to 1 (`[0.8, 0.2]`; left-over items go round-robin to the
 *   first parts) or counts summing to the dataset length (`[800, 200]`).
 *
 * @example
 * ```ts
 * const [train, val] = randomSplit(slices, [0.8, 0.2], { seed: 0 });
 * ```
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], options: RandomSplitOptions = {}): Subset<T>[] {
  const counts = splitLengths(dataset.length, lengths);
  const perm = toGenerator(options.seed).permutation(dataset.length);
  const parts: Subset<T>[] = [];
  let offset = 0;
  for (const c of counts) {
    parts.push(new Subset(dataset, perm.subarray(offset, offset + c)));
    offset += c;
  }
  return parts;
}
