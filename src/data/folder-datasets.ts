import { ShapeError, ValueError } from '../core/errors.js';
import type { Dataset } from './dataset.js';
import { exists, fsp, listFiles, nodePath } from './node-fs.js';
import { readImageFile } from './readers/image.js';
import { checkIndex, fromImageData, type ImageArray, type Sample } from './sample.js';

/** File endings the folder datasets pick up by default: the formats `readImageFile` decodes. */
export const DEFAULT_IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.dcm'];

/** Options of {@link imageFolderDataset}. */
export interface ImageFolderOptions {
  /** File endings to include, case-insensitive (default {@link DEFAULT_IMAGE_EXTENSIONS}). */
  extensions?: readonly string[];
}

/**
 * A classification dataset laid out as `root/<class>/**\/<image>`, as torchvision's
 * `ImageFolder`: classes are the sub-directory names in sorted order, labels their indices.
 * Images are decoded on each `get` (wrap in a {@link CachedDataset} to decode once).
 */
export class ImageFolderDataset implements Dataset<Sample> {
  /** The root directory. */
  readonly root: string;
  /** Class names (sub-directory names), sorted; `label` indexes this list. */
  readonly classes: readonly string[];
  /** Class name → label. */
  readonly classToIdx: Readonly<Record<string, number>>;
  /** Every `[path, label]`, sorted by class then path. */
  readonly samples: ReadonlyArray<readonly [string, number]>;

  /** Use {@link imageFolderDataset}, which lists the directory. */
  constructor(root: string, classes: readonly string[], samples: ReadonlyArray<readonly [string, number]>) {
    this.root = root;
    this.classes = classes.slice();
    this.classToIdx = Object.fromEntries(classes.map((c, i) => [c, i]));
    this.samples = samples.slice();
  }

  /** Number of images. */
  get length(): number {
    return this.samples.length;
  }

  /** Decodes the `index`-th image; its label is its class index. */
  async get(index: number): Promise<Sample> {
    checkIndex(index, this.samples.length, 'ImageFolderDataset.get');
    const [path, label] = this.samples[index];
    return { image: fromImageData(await readImageFile(path)), label };
  }
}

/**
 * Lists `root/<class>/…` and returns an {@link ImageFolderDataset} (Node only).
 *
 * @throws ValueError when `root` has no class directories or a class has no images.
 * @example
 * ```ts
 * const ds = await imageFolderDataset('data/xray');   // data/xray/normal/*.png, data/xray/pneumonia/*.png
 * ds.classes;          // ['normal', 'pneumonia']
 * (await ds.get(0)).label;  // 0
 * ```
 */
export async function imageFolderDataset(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const fs = await fsp();
  const path = await nodePath();
  const extensions = options.extensions ?? DEFAULT_IMAGE_EXTENSIONS;
  if (!(await exists(root))) throw new ValueError(`imageFolderDataset: the directory '${root}' does not exist.`);
  const entries = await fs.readdir(root, { withFileTypes: true });
  const classes = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (classes.length === 0) {
    throw new ValueError(`imageFolderDataset: '${root}' has no sub-directories; expected one directory per class (root/<class>/<image>).`);
  }
  const samples: [string, number][] = [];
  for (let label = 0; label < classes.length; label++) {
    const files = await listFiles(path.join(root, classes[label]), extensions);
    if (files.length === 0) {
      throw new ValueError(
        `imageFolderDataset: class '${classes[label]}' (${path.join(root, classes[label])}) has no files ending in ${extensions.join(', ')}.`,
      );
    }
    for (const f of files) samples.push([f, label]);
  }
  return new ImageFolderDataset(root, classes, samples);
}

/** Options of {@link pairedFolderDataset}. */
export interface PairedFolderOptions {
  /** Directory of images (searched recursively). */
  images: string;
  /** Directory of masks; a mask pairs with the image at the same relative path, extension aside. */
  masks: string;
  /** Text between a mask's base name and its extension, e.g. `'_mask'` for `a.png` ↔ `a_mask.png` (default none). */
  maskSuffix?: string;
  /** File endings to include (default {@link DEFAULT_IMAGE_EXTENSIONS}). */
  extensions?: readonly string[];
  /**
   * Turn masks into 0/1 (`value > 0`), so 0/255 PNG masks become binary targets (default true).
   * Set false to keep label indices of multi-class masks.
   */
  binarizeMask?: boolean;
}

/** One image/mask file pair of a {@link PairedFolderDataset}. */
export interface PairedFiles {
  /** Image path. */
  image: string;
  /** Mask path. */
  mask: string;
}

function maskChannel(mask: ImageArray, binarize: boolean): ImageArray {
  const [h, w, c] = mask.shape;
  if (c === 1 && !binarize) return mask;
  // RGB(A) masks: the first channel carries the label (alpha would say nothing about the class).
  const out = binarize ? new Uint8Array(h * w) : new (mask.data.constructor as new (n: number) => typeof mask.data)(h * w);
  for (let i = 0; i < h * w; i++) {
    const v = mask.data[i * c];
    out[i] = binarize ? (v > 0 ? 1 : 0) : v;
  }
  return { data: out, shape: [h, w, 1] };
}

/** A segmentation dataset of images and masks in two parallel directories (see {@link pairedFolderDataset}). */
export class PairedFolderDataset implements Dataset<Sample> {
  /** The file pairs, sorted by image path. */
  readonly pairs: readonly PairedFiles[];
  private readonly binarizeMask: boolean;

  /** Use {@link pairedFolderDataset}, which lists and pairs the files. */
  constructor(pairs: readonly PairedFiles[], binarizeMask = true) {
    this.pairs = pairs.slice();
    this.binarizeMask = binarizeMask;
  }

  /** Number of pairs. */
  get length(): number {
    return this.pairs.length;
  }

  /** Decodes the `index`-th image and its mask (one channel). */
  async get(index: number): Promise<Sample> {
    checkIndex(index, this.pairs.length, 'PairedFolderDataset.get');
    const { image, mask } = this.pairs[index];
    const [img, msk] = await Promise.all([readImageFile(image), readImageFile(mask)]);
    if (img.width !== msk.width || img.height !== msk.height) {
      throw new ShapeError(`PairedFolderDataset: image ${image} is ${img.height}×${img.width} but its mask ${mask} is ${msk.height}×${msk.width}.`);
    }
    return { image: fromImageData(img), mask: maskChannel(fromImageData(msk), this.binarizeMask) };
  }
}

/**
 * Pairs every image under `images` with the mask at the same relative path under `masks`
 * (extensions may differ, e.g. `img/a.jpg` ↔ `masks/a.png`) and returns a segmentation dataset
 * (Node only). Images are decoded on each `get`.
 *
 * @throws ValueError when a directory is missing or empty, or an image has no mask (naming it).
 */
export async function pairedFolderDataset(options: PairedFolderOptions): Promise<PairedFolderDataset> {
  const path = await nodePath();
  const extensions = options.extensions ?? DEFAULT_IMAGE_EXTENSIONS;
  const suffix = options.maskSuffix ?? '';
  for (const [what, dir] of [['images', options.images], ['masks', options.masks]] as const) {
    if (!(await exists(dir))) throw new ValueError(`pairedFolderDataset: the ${what} directory '${dir}' does not exist.`);
  }
  const key = (root: string, file: string): string => {
    const rel = path.relative(root, file);
    return rel.slice(0, rel.length - path.extname(rel).length);
  };
  const images = await listFiles(options.images, extensions);
  if (images.length === 0) throw new ValueError(`pairedFolderDataset: no files ending in ${extensions.join(', ')} under '${options.images}'.`);
  const masks = new Map<string, string>();
  for (const m of await listFiles(options.masks, extensions)) masks.set(key(options.masks, m), m);
  const pairs: PairedFiles[] = [];
  const missing: string[] = [];
  for (const image of images) {
    const mask = masks.get(key(options.images, image) + suffix);
    if (mask === undefined) missing.push(image);
    else pairs.push({ image, mask });
  }
  if (missing.length > 0) {
    throw new ValueError(
      `pairedFolderDataset: ${missing.length} image(s) have no mask under '${options.masks}'` +
        `${suffix ? ` (with suffix '${suffix}')` : ''}, e.g. ${missing.slice(0, 3).join(', ')}. ` +
        'A mask must have the same relative path and base name as its image.',
    );
  }
  return new PairedFolderDataset(pairs, options.binarizeMask ?? true);
}
