import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import { checkIndex, type ImageArray, type PixelArray, type Sample } from './sample.js';

/**
 * A map-style dataset, as `torch.utils.data.Dataset`: a fixed number of items reachable by index.
 * `get` may return a promise, so datasets can decode files lazily; a {@link DataLoader} awaits it.
 *
 * @typeParam T - the item type ({@link Sample} for the built-in image datasets).
 */
export interface Dataset<T> {
  /** Number of items. */
  readonly length: number;
  /** The item at `index` (0 ≤ index < length). */
  get(index: number): T | Promise<T>;
}

/**
 * True when `x` is a promise (or any thenable), so sync results can skip a microtask.
 *
 * @internal
 */
export function isPromiseLike<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/** Reads every item of a dataset in order (awaiting lazy ones). */
export async function datasetToArray<T>(dataset: Dataset<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < dataset.length; i++) out.push(await dataset.get(i));
  return out;
}

/** A dataset over an in-memory array of items, in the array's order. */
export class ArrayDataset<T> implements Dataset<T> {
  private readonly items: readonly T[];

  /** @param items - the items; the array is not copied, so do not mutate it while the dataset is in use. */
  constructor(items: readonly T[]) {
    this.items = items;
  }

  /** Number of items. */
  get length(): number {
    return this.items.length;
  }

  /** The item at `index`. */
  get(index: number): T {
    checkIndex(index, this.items.length, 'ArrayDataset.get');
    return this.items[index];
  }
}

/**
 * A stack of equally shaped arrays as one flat typed array plus its shape (e.g. `[N, H, W, C]`),
 * the layout of NumPy/`ndarray` buffers and IDX files.
 */
export interface StackedArray {
  /** Values, row-major. */
  readonly data: PixelArray | readonly number[];
  /** The shape; its product must equal `data.length`. */
  readonly shape: readonly number[];
}

/**
 * The structural shape of an `ndarray` (scijs) view, so such arrays can be passed without medvae
 * depending on the package's types. Non-contiguous views (transposed, sliced) are copied once.
 */
export interface StridedArray {
  /** The underlying storage. */
  readonly data: ArrayLike<number>;
  /** The view's shape. */
  readonly shape: readonly number[];
  /** Elements to step in `data` per unit of each axis. */
  readonly stride: readonly number[];
  /** Position of element `[0, …, 0]` in `data`. */
  readonly offset: number;
}

/** Anything {@link TensorDataset} accepts as a stacked source: a flat array with a shape, an ndarray view, or a tensor. */
export type ArraySource = StackedArray | StridedArray | tf.Tensor;

/** Options of {@link TensorDataset}. */
export interface TensorDatasetOptions {
  /** Images, `[N, H, W]` (one channel) or `[N, H, W, C]`. */
  images: ArraySource;
  /** Masks on the same grid, `[N, H, W]` or `[N, H, W, Cm]`. */
  masks?: ArraySource;
  /** One class label per image, `[N]`. */
  labels?: ArraySource | ArrayLike<number>;
}

function isStrided(x: unknown): x is StridedArray {
  const o = x as Partial<StridedArray>;
  return Array.isArray(o.stride) && typeof o.offset === 'number' && Array.isArray(o.shape);
}

function isTypedArray(x: unknown): x is PixelArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Turns any {@link ArraySource} into a contiguous typed array plus shape (no copy when already contiguous). */
function toStacked(src: ArraySource | ArrayLike<number>, what: string): { data: PixelArray; shape: number[] } {
  if (src instanceof tf.Tensor) {
    return { data: src.dataSync() as PixelArray, shape: src.shape.slice() };
  }
  if (isStrided(src)) {
    const shape = src.shape.slice();
    const n = shape.reduce((a, b) => a * b, 1);
    const rowMajor: number[] = [];
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      rowMajor[i] = acc;
      acc *= shape[i];
    }
    const contiguous = src.offset === 0 && src.stride.every((s, i) => s === rowMajor[i] || shape[i] === 1);
    if (contiguous && isTypedArray(src.data) && src.data.length === n) return { data: src.data, shape };
    const out = new Float32Array(n);
    const idx = new Array<number>(shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let p = src.offset;
      for (let d = 0; d < shape.length; d++) p += idx[d] * src.stride[d];
      out[k] = src.data[p];
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return { data: out, shape };
  }
  if ('shape' in src && 'data' in src) {
    const s = src as StackedArray;
    const data = isTypedArray(s.data) ? s.data : Float32Array.from(s.data);
    const shape = s.shape.slice();
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) {
      throw new ShapeError(`TensorDataset ${what}: shape [${shape.join(', ')}] needs ${n} values, but data has ${data.length}.`);
    }
    return { data, shape };
  }
  const flat = src as ArrayLike<number>;
  return { data: isTypedArray(flat) ? flat : Float32Array.from(flat), shape: [flat.length] };
}

function asImages(src: ArraySource, what: string): { data: PixelArray; shape: [number, number, number, number] } {
  const { data, shape } = toStacked(src, what);
  if (shape.length === 3) return { data, shape: [shape[0], shape[1], shape[2], 1] };
  if (shape.length === 4) return { data, shape: [shape[0], shape[1], shape[2], shape[3]] };
  throw new ShapeError(
    `TensorDataset ${what} must have shape [N, H, W] or [N, H, W, C], but got [${shape.join(', ')}]. ` +
      'Stack the images along a first axis.',
  );
}

/**
 * An in-memory image dataset over stacked arrays, as `torch.utils.data.TensorDataset`: item `i` is
 * the `i`-th image (with its mask and label when given). Items are views into the stacked data, not
 * copies, which keeps e.g. all of MNIST at its 47 MB of uint8 rather than 188 MB of float32.
 *
 * @example
 * ```ts
 * const n = pixels.length / (28 * 28);   // pixels: n stacked 28×28 images
 * const ds = new TensorDataset({ images: { data: pixels, shape: [n, 28, 28] }, labels });
 * ds.get(0); // { image: { data: Uint8Array(784), shape: [28, 28, 1] }, label: 5 }
 * ```
 */
export class TensorDataset implements Dataset<Sample> {
  private readonly images: { data: PixelArray; shape: [number, number, number, number] };
  private readonly masks?: { data: PixelArray; shape: [number, number, number, number] };
  private readonly labels?: PixelArray;

  /** Number of images. */
  readonly length: number;

  constructor(options: TensorDatasetOptions) {
    this.images = asImages(options.images, 'images');
    const n = this.images.shape[0];
    if (options.masks !== undefined) {
      this.masks = asImages(options.masks, 'masks');
      const [mn, mh, mw] = this.masks.shape;
      const [, h, w] = this.images.shape;
      if (mn !== n || mh !== h || mw !== w) {
        throw new ShapeError(
          `TensorDataset masks have shape [${this.masks.shape.join(', ')}] but images have [${this.images.shape.join(', ')}]; ` +
            'masks need the same count, height and width as the images.',
        );
      }
    }
    if (options.labels !== undefined) {
      const { data, shape } = toStacked(options.labels, 'labels');
      if (shape.length !== 1 || shape[0] !== n) {
        throw new ShapeError(`TensorDataset labels must have shape [${n}] (one per image), but got [${shape.join(', ')}].`);
      }
      this.labels = data;
    }
    this.length = n;
  }

  /** The `index`-th sample; its arrays are views into the stacked data. */
  get(index: number): Sample {
    checkIndex(index, this.length, 'TensorDataset.get');
    const image = view(this.images, index);
    const out: { image: ImageArray; mask?: ImageArray; label?: number } = { image };
    if (this.masks) out.mask = view(this.masks, index);
    if (this.labels) out.label = this.labels[index];
    return out;
  }
}

function view(stack: { data: PixelArray; shape: [number, number, number, number] }, index: number): ImageArray {
  const [, h, w, c] = stack.shape;
  const size = h * w * c;
  return { data: stack.data.subarray(index * size, (index + 1) * size), shape: [h, w, c] };
}

/**
 * A dataset whose items are another dataset's items passed through `fn`, computed lazily on each
 * `get` (nothing is stored: wrap it in a {@link CachedDataset} when `fn` is expensive and
 * deterministic). This is how transforms are attached: `new MapDataset(ds, compose([...]))`.
 */
export class MapDataset<T, U> implements Dataset<U> {
  private readonly source: Dataset<T>;
  private readonly fn: (item: T, index: number) => U | Promise<U>;

  /**
   * @param source - the dataset to read from.
   * @param fn - the transformation; it also receives the item's index.
   */
  constructor(source: Dataset<T>, fn: (item: T, index: number) => U | Promise<U>) {
    this.source = source;
    this.fn = fn;
  }

  /** Number of items (that of the source). */
  get length(): number {
    return this.source.length;
  }

  /** `fn(source.get(index), index)`. */
  get(index: number): U | Promise<U> {
    const item = this.source.get(index);
    return isPromiseLike(item) ? item.then((x) => this.fn(x, index)) : this.fn(item, index);
  }
}

/** A view of a dataset at the given indices, as `torch.utils.data.Subset`. */
export class Subset<T> implements Dataset<T> {
  /** The wrapped dataset. */
  readonly dataset: Dataset<T>;
  /** The source indices, in the subset's order. */
  readonly indices: Int32Array;

  constructor(dataset: Dataset<T>, indices: ArrayLike<number>) {
    for (let i = 0; i < indices.length; i++) checkIndex(indices[i], dataset.length, `Subset index ${i}`);
    this.dataset = dataset;
    this.indices = Int32Array.from(indices);
  }

  /** Number of items in the subset. */
  get length(): number {
    return this.indices.length;
  }

  /** The source item at `indices[index]`. */
  get(index: number): T | Promise<T> {
    checkIndex(index, this.indices.length, 'Subset.get');
    return this.dataset.get(this.indices[index]);
  }
}

/** Several datasets one after another, as `torch.utils.data.ConcatDataset`. */
export class ConcatDataset<T> implements Dataset<T> {
  /** The parts, in order. */
  readonly datasets: readonly Dataset<T>[];
  /** `cumulativeSizes[k]` = total length of parts 0 … k. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: readonly Dataset<T>[]) {
    if (datasets.length === 0) throw new ValueError('ConcatDataset needs at least one dataset, but got an empty list.');
    this.datasets = datasets.slice();
    const sizes: number[] = [];
    let total = 0;
    for (const d of datasets) {
      total += d.length;
      sizes.push(total);
    }
    this.cumulativeSizes = sizes;
  }

  /** Total number of items. */
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }

  /** The item at the global `index`. */
  get(index: number): T | Promise<T> {
    checkIndex(index, this.length, 'ConcatDataset.get');
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid] > index) hi = mid;
      else lo = mid + 1;
    }
    const start = lo === 0 ? 0 : this.cumulativeSizes[lo - 1];
    return this.datasets[lo].get(index - start);
  }
}

/** Options of {@link CachedDataset}. */
export interface CachedDatasetOptions {
  /**
   * Most items kept; beyond it the least recently used item is dropped (default: unbounded, i.e.
   * everything is kept after its first read, as MONAI's `CacheDataset` with `cache_rate=1`).
   */
  maxItems?: number;
}

/**
 * Remembers the items of a dataset whose `get` is expensive (file decoding, resampling), so the
 * second epoch reads from memory. With `maxItems` it is an LRU cache. Concurrent reads of one index
 * share a single pending read. Only cache deterministic work: put random augmentations after it,
 * e.g. `new MapDataset(new CachedDataset(decoded), augment)`.
 */
export class CachedDataset<T> implements Dataset<T> {
  private readonly source: Dataset<T>;
  private readonly maxItems: number;
  private readonly cache = new Map<number, T>();
  private readonly pending = new Map<number, Promise<T>>();

  constructor(source: Dataset<T>, options: CachedDatasetOptions = {}) {
    const maxItems = options.maxItems ?? Infinity;
    if (!(maxItems >= 1)) throw new ValueError(`CachedDataset maxItems must be at least 1, but got ${options.maxItems}.`);
    this.source = source;
    this.maxItems = maxItems;
  }

  /** Number of items (that of the source). */
  get length(): number {
    return this.source.length;
  }

  /** Number of items currently held. */
  get cachedCount(): number {
    return this.cache.size;
  }

  /** The item at `index`, from the cache when present. */
  get(index: number): T | Promise<T> {
    checkIndex(index, this.source.length, 'CachedDataset.get');
    if (this.cache.has(index)) {
      const value = this.cache.get(index) as T;
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.cache.delete(index);
      this.cache.set(index, value);
      return value;
    }
    const inFlight = this.pending.get(index);
    if (inFlight) return inFlight;
    const item = this.source.get(index);
    if (!isPromiseLike(item)) {
      this.store(index, item);
      return item;
    }
    const p = item.then(
      (value) => {
        this.pending.delete(index);
        this.store(index, value);
        return value;
      },
      (err: unknown) => {
        this.pending.delete(index);
        throw err;
      },
    );
    this.pending.set(index, p);
    return p;
  }

  /** Drops every cached item. */
  clear(): void {
    this.cache.clear();
  }

  private store(index: number, value: T): void {
    this.cache.set(index, value);
    while (this.cache.size > this.maxItems) {
      const oldest = this.cache.keys().next().value as number;
      this.cache.delete(oldest);
    }
  }
}
