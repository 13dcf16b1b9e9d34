import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import type { ImageData2D, ImageDataArray } from './readers/types.js';

/**
 * The typed arrays an image's pixels may live in (the same set the readers return as
 * {@link ImageDataArray}). Pixels keep the file's own type (uint8 PNGs, int16 NIfTI, ...) so
 * nothing is converted before it has to be; transforms that interpolate or change intensities
 * return `Float32Array`.
 */
export type PixelArray = ImageDataArray;

/**
 * One 2D image (or mask) on the host, channels last: `data[(y * W + x) * C + c]`.
 *
 * Host-side arrays rather than tensors, because data preparation (decoding, augmenting) runs per
 * sample on the CPU and only a whole batch is worth uploading to the backend.
 */
export interface ImageArray {
  /** Pixel values, row-major, channels last; length `H * W * C`. */
  readonly data: PixelArray;
  /** `[height, width, channels]`. */
  readonly shape: readonly [number, number, number];
}

/**
 * One training example: an image, and optionally a segmentation mask on the same pixel grid and/or
 * a class label. This is what the built-in datasets produce, what transforms consume and what
 * {@link collateSamples} stacks into a {@link Batch}.
 */
export interface Sample {
  /** The input image, `[H, W, C]`. */
  readonly image: ImageArray;
  /** A mask on the same `H × W` grid as `image` (binary, label indices, or one-hot channels). */
  readonly mask?: ImageArray;
  /** A class index (e.g. the ImageFolder class, the MNIST digit, lesion vs normal). */
  readonly label?: number;
}

/** A stacked batch of {@link Sample}s as tensors, NHWC. */
export interface Batch {
  /** Images, `[B, H, W, C]`, float32. */
  image: tf.Tensor4D;
  /** Masks, `[B, H, W, Cm]`, float32 (present when the samples have masks). */
  mask?: tf.Tensor4D;
  /** Class labels, `[B]`, int32 (present when the samples have labels). */
  label?: tf.Tensor1D;
}

/**
 * Makes an {@link ImageArray}, checking that the data length matches the shape. A 2-element shape
 * `[H, W]` means one channel.
 *
 * @example
 * ```ts
 * const img = imageArray(new Float32Array(64 * 64), [64, 64]);   // shape [64, 64, 1]
 * ```
 */
export function imageArray(data: PixelArray, shape: readonly [number, number] | readonly [number, number, number]): ImageArray {
  const [h, w] = shape;
  const c = shape.length === 3 ? shape[2] : 1;
  for (const [name, v] of [['height', h], ['width', w], ['channels', c]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ShapeError(`Image ${name} must be a positive integer, but got ${v} (shape [${shape.join(', ')}]).`);
    }
  }
  if (data.length !== h * w * c) {
    throw new ShapeError(
      `Image data has ${data.length} values, but shape [${h}, ${w}, ${c}] needs ${h * w * c}. ` +
        'Pass the shape as [height, width, channels] with channels last.',
    );
  }
  return { data, shape: [h, w, c] };
}

/**
 * The number of pixels times channels of an image shape.
 *
 * @internal
 */
export function imageSize(shape: readonly [number, number, number]): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * The pixels of `img` as a Float32Array (the same array when it already is one).
 *
 * @internal
 */
export function toFloat32Data(img: ImageArray): Float32Array {
  return img.data instanceof Float32Array ? img.data : Float32Array.from(img.data);
}

/**
 * Throws unless `mask` covers the same `H × W` grid as `image` (channels may differ).
 *
 * @internal
 */
export function assertSameGrid(image: ImageArray, mask: ImageArray, where: string): void {
  if (image.shape[0] !== mask.shape[0] || image.shape[1] !== mask.shape[1]) {
    throw new ShapeError(
      `${where}: the mask's grid ${mask.shape[0]}×${mask.shape[1]} differs from the image's ` +
        `${image.shape[0]}×${image.shape[1]}; a mask must cover the same pixels as its image.`,
    );
  }
}

/**
 * Validates an index into a collection of `length` items.
 *
 * @internal
 */
export function checkIndex(index: number, length: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ValueError(`${what}: index ${index} is out of range; valid indices are integers 0 … ${length - 1} (length ${length}).`);
  }
}

/**
 * Views a reader's {@link ImageData2D} (`{ width, height, channels, data }`) as an
 * {@link ImageArray} (`{ data, shape: [height, width, channels] }`) without copying.
 */
export function fromImageData(img: ImageData2D): ImageArray {
  return imageArray(img.data, [img.height, img.width, img.channels]);
}
