// Runs the UNetSegmenter on one prepared slice and scores it: the page's whole inference path,
// kept free of the DOM so a Node script can run exactly the same steps.
import * as tf from '@tensorflow/tfjs-core';
import { computeDice, overlayMasks, type ImageData2D, type Sample, type UNetSegmenter } from '../../src/index.js';

/** What {@link segmentSlice} returns. */
export interface SegmentationResult {
  /** Predicted label map, `H × W` class indices. */
  labels: Int32Array;
  /** Foreground Dice (any class > 0 against mask > 0); null without a mask, NaN when the mask is empty. */
  dice: number | null;
  /** Milliseconds for the forward pass and reading the labels back. */
  ms: number;
  /** The slice in grey with the mask outlined in green and the prediction filled and outlined in red. */
  overlay: ImageData2D;
}

/**
 * Foreground Dice 2|P∩T| / (|P| + |T|) of two label maps, treating every class > 0 as foreground
 * (the brain for the bundled model), with MONAI's rule that an empty truth scores NaN.
 */
export function foregroundDice(pred: ArrayLike<number>, truth: ArrayLike<number>, height: number, width: number): number {
  const bin = (a: ArrayLike<number>) => Int32Array.from({ length: height * width }, (_, i) => (a[i] > 0 ? 1 : 0));
  const table = computeDice({ data: bin(pred), shape: [1, height, width] }, { data: bin(truth), shape: [1, height, width] }, {
    numClasses: 2, includeBackground: false,
  });
  return table[0][0];
}

/** Segments one sample (image `[H, W, 1]` in [0, 1], optional 0/1 mask). */
export async function segmentSlice(model: UNetSegmenter, sample: Sample): Promise<SegmentationResult> {
  const [h, w] = sample.image.shape;
  const x = tf.tensor4d(Float32Array.from(sample.image.data), [1, h, w, 1]);
  try {
    const start = performance.now();
    const pred = model.predict(x);
    const labels = (await pred.data()) as Int32Array;
    const ms = performance.now() - start;
    pred.dispose();
    const grey: ImageData2D = {
      width: w, height: h, channels: 1, bitDepth: 8,
      data: Uint8Array.from(sample.image.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)),
    };
    const truth = sample.mask ? sample.mask.data : null;
    return {
      labels,
      ms,
      dice: truth ? foregroundDice(labels, truth, h, w) : null,
      overlay: overlayMasks(grey, truth, labels),
    };
  } finally {
    x.dispose();
  }
}
