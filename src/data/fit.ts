// Internal: the pad-then-resize step shared by niftiSliceDataset and scripts/make-colin27-slices.ts.
import type { Sample } from './sample.js';
import { resize, spatialPad } from './transforms/spatial.js';
import { compose } from './transforms/transform.js';

/** Zero-pads a sample symmetrically to the aspect ratio of `size`, then resizes it to `size`. */
export function fitTo(sample: Sample, size: readonly [number, number]): Sample {
  const [h, w] = sample.image.shape;
  const [th, tw] = size;
  let ph = h;
  let pw = w;
  if (h * tw < w * th) ph = Math.round((w * th) / tw);
  else pw = Math.round((h * tw) / th);
  return compose([spatialPad({ spatialSize: [ph, pw] }), resize({ spatialSize: [th, tw] })])(sample);
}
