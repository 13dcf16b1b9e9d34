import { ValueError } from '../core/errors.js';
import { Generator, type SeedLike, toGenerator } from '../core/random.js';
import { collateSamples, disposeTensors } from './collate.js';
import type { Dataset } from './dataset.js';
import type { Batch, Sample } from './sample.js';

/** Options of {@link DataLoader}; names and defaults follow `torch.utils.data.DataLoader`. */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch (default false: dataset order). */
  shuffle?: boolean;
  /**
   * Seed of the shuffle. A number fixes the whole sequence of epoch orders; a {@link Generator}
   * is drawn from once, at construction; when omitted the global generator is drawn from.
   */
  seed?: SeedLike;
  /** Drop the last batch when it would be smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /**
   * Batches read ahead in the background while the current one is in use (default 2, like
   * PyTorch's `prefetch_factor`). Only the samples are read ahead; tensors are made when a batch is
   * handed out, so read-ahead costs no backend memory. Helps when `dataset.get` awaits I/O.
   */
  prefetch?: number;
  /**
   * Turns the samples of one batch into the batch (default {@link collateSamples}, which stacks
   * {@link Sample}s into float32 NHWC tensors). Required when the items are not Samples.
   */
  collate?: (items: T[]) => B;
  /**
   * Ownership of the yielded batches. By default (false) the loader owns them: every tensor in a
   * batch is disposed as soon as the loop asks for the next batch, and the last one when the loop
   * ends, breaks or throws, so a plain `for await` loop leaks nothing. With `keep: true` the
   * tensors are yours to dispose (e.g. with `tf.dispose(batch)`): use it to hold on to batches
   * beyond one loop step.
   */
  keep?: boolean;
}

/** Mixes a base seed and an epoch into one 32-bit seed, so each (seed, epoch) pair has its own order. */
function epochSeed(base: number, epoch: number): number {
  let h = (base ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = (h ^ Math.imul(epoch + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Batches a dataset, as `torch.utils.data.DataLoader`: an async iterable that yields one batch
 * per step of a `for await` loop. Each loop over it is one epoch; with `shuffle` every epoch gets
 * its own order, determined by `seed` and the epoch index alone (same seed, same batches; a run
 * resumed at epoch `e` with {@link DataLoader.setEpoch} sees what the original run saw).
 *
 * Batches are owned by the loader unless `keep` is set: see {@link DataLoaderOptions.keep}.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(train, { batchSize: 16, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for await (const { image, mask } of loader) {
 *     trainStep(image, mask!);   // image: [16, H, W, 1], disposed when the loop moves on
 *   }
 * }
 * ```
 */
export class DataLoader<T = Sample, B = Batch> implements AsyncIterable<B> {
  /** The dataset being batched. */
  readonly dataset: Dataset<T>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a fresh random order. */
  readonly shuffle: boolean;
  /** Whether an incomplete last batch is dropped. */
  readonly dropLast: boolean;
  /** Batches read ahead. */
  readonly prefetch: number;
  /** Whether yielded batches are left to the caller to dispose. */
  readonly keep: boolean;
  private readonly collate: (items: T[]) => B;
  private readonly baseSeed: number;
  private nextEpoch = 0;

  /** With a `collate` function, any item type may be batched. */
  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> & { collate: (items: T[]) => B });
  /** Without `collate`, items must be {@link Sample}s and batches are {@link Batch}es. */
  constructor(dataset: Dataset<T & Sample>, options?: Omit<DataLoaderOptions<T, B>, 'collate'>);
  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    const batchSize = options.batchSize ?? 1;
    const prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(`DataLoader batchSize must be a positive integer, but got ${options.batchSize}.`);
    }
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new ValueError(`DataLoader prefetch must be a non-negative integer, but got ${options.prefetch}.`);
    }
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length)) {
      throw new ValueError('DataLoader needs a Dataset (an object with an integer `length` and a `get(index)` method).');
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.prefetch = prefetch;
    this.keep = options.keep ?? false;
    this.collate = options.collate ?? (collateSamples as unknown as (items: T[]) => B);
    const seed = options.seed;
    this.baseSeed = typeof seed === 'number' ? Math.floor(seed) >>> 0 : toGenerator(seed).nextUint32();
  }

  /** Number of batches per epoch: `ceil(n / batchSize)`, or `floor` with `dropLast`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The index of the epoch the next loop over the loader will run. */
  get epoch(): number {
    return this.nextEpoch;
  }

  /** Sets the epoch the next loop runs (to resume a run, or to replay an epoch). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new ValueError(`DataLoader epoch must be a non-negative integer, but got ${epoch}.`);
    this.nextEpoch = epoch;
  }

  /**
   * Sets the epoch the next loop runs and returns the loader, so a training loop can ask for any
   * epoch's batches: `trainLoop({ data: (epoch) => loader.forEpoch(epoch), ... })` replays the same
   * order after a resume.
   */
  forEpoch(epoch: number): this {
    this.setEpoch(epoch);
    return this;
  }

  /** The order in which epoch `epoch` visits the dataset (identity unless `shuffle`). */
  epochOrder(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return new Generator(epochSeed(this.baseSeed, epoch)).permutation(n);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }

  /** Starts one epoch (and advances the epoch counter). */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    const order = this.epochOrder(this.nextEpoch);
    this.nextEpoch += 1;
    return this.run(order);
  }

  private async *run(order: Int32Array): AsyncGenerator<B, void, undefined> {
    const numBatches = this.length;
    const load = async (b: number): Promise<T[]> => {
      const start = b * this.batchSize;
      const end = Math.min(start + this.batchSize, order.length);
      const items: Array<T | Promise<T>> = [];
      for (let k = start; k < end; k++) items.push(this.dataset.get(order[k]));
      return Promise.all(items);
    };
    const queue: Promise<T[]>[] = [];
    let started = 0;
    const fill = (upTo: number): void => {
      while (started < numBatches && started <= upTo) {
        const p = load(started++);
        // A read-ahead that fails after the loop stopped must not surface as an unhandled rejection;
        // when the loop does reach it, awaiting `p` still throws.
        p.catch(() => undefined);
        queue.push(p);
      }
    };
    let current: B | undefined;
    try {
      for (let b = 0; b < numBatches; b++) {
        fill(b + this.prefetch);
        const items = await (queue.shift() as Promise<T[]>);
        current = this.collate(items);
        yield current;
        if (!this.keep) disposeTensors(current);
        current = undefined;
      }
    } finally {
      if (current !== undefined && !this.keep) disposeTensors(current);
    }
  }
}
