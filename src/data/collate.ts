import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../core/errors.js';
import type { Batch, ImageArray, Sample } from './sample.js';

function stack(images: readonly ImageArray[], field: string): tf.Tensor4D {
  const [h, w, c] = images[0].shape;
  const size = h * w * c;
  const out = new Float32Array(images.length * size);
  for (let i = 0; i < images.length; i++) {
    const img = images[i];
    if (img.shape[0] !== h || img.shape[1] !== w || img.shape[2] !== c) {
      throw new ShapeError(
        `collate: sample ${i}'s ${field} has shape [${img.shape.join(', ')}], but sample 0's is [${h}, ${w}, ${c}]. ` +
          'Samples in a batch must share a shape: add a resize, crop or spatialPad transform.',
      );
    }
    if (img.data.length !== size) {
      throw new ShapeError(`collate: sample ${i}'s ${field} has ${img.data.length} values but its shape [${h}, ${w}, ${c}] needs ${size}.`);
    }
    out.set(img.data, i * size);
  }
  return tf.tensor4d(out, [images.length, h, w, c], 'float32');
}

/**
 * The default collate function of {@link DataLoader}: stacks samples into float32 NHWC tensors
 * (`image`, and `mask` when the samples have one) and an int32 `label` vector when they have
 * labels. Every sample must carry the same fields with the same shapes.
 */
export function collateSamples(samples: readonly Sample[]): Batch {
  if (samples.length === 0) throw new ValueError('collate needs at least one sample, but got an empty batch.');
  const hasMask = samples[0].mask !== undefined;
  const hasLabel = samples[0].label !== undefined;
  const images: ImageArray[] = [];
  const masks: ImageArray[] = [];
  const labels = new Int32Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s === null || typeof s !== 'object' || s.image === undefined) {
      throw new ValueError(
        `collate: item ${i} is not a Sample ({ image, mask?, label? }). Pass a collate function to the DataLoader for other item types.`,
      );
    }
    if ((s.mask !== undefined) !== hasMask || (s.label !== undefined) !== hasLabel) {
      throw new ValueError(
        `collate: sample ${i} ${s.mask !== undefined ? 'has' : 'lacks'} a mask and ${s.label !== undefined ? 'has' : 'lacks'} a label, ` +
          `unlike sample 0; every sample in a batch must carry the same fields.`,
      );
    }
    images.push(s.image);
    if (s.mask) masks.push(s.mask);
    if (hasLabel) {
      const l = s.label as number;
      if (!Number.isInteger(l)) throw new ValueError(`collate: sample ${i}'s label must be an integer class index, but got ${l}.`);
      labels[i] = l;
    }
  }
  const image = stack(images, 'image');
  let mask: tf.Tensor4D | undefined;
  try {
    mask = hasMask ? stack(masks, 'mask') : undefined;
  } catch (err) {
    image.dispose();
    throw err;
  }
  if (mask && (mask.shape[1] !== image.shape[1] || mask.shape[2] !== image.shape[2])) {
    const msg = `collate: masks are ${mask.shape[1]}×${mask.shape[2]} but images are ${image.shape[1]}×${image.shape[2]}; they must share a grid.`;
    image.dispose();
    mask.dispose();
    throw new ShapeError(msg);
  }
  const batch: Batch = { image };
  if (mask) batch.mask = mask;
  if (hasLabel) batch.label = tf.tensor1d(labels, 'int32');
  return batch;
}

/** Disposes every tensor found in `value` (nested in plain objects, arrays, Maps) and nothing else. */
export function disposeTensors(value: unknown): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof tf.Tensor) {
      if (!v.isDisposed) v.dispose();
      return;
    }
    if (ArrayBuffer.isView(v)) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (v instanceof Map) {
      for (const x of v.values()) walk(x);
      return;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto === Object.prototype || proto === null) {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(value);
}
