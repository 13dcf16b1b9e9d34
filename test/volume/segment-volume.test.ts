import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  NiftiVolume,
  ShapeError,
  UNetSegmenter,
  ValueError,
  readNifti,
  resolveSliceAxis,
  segmentVolume,
  sliceVolume,
  writeNifti,
  type VolumeSegmenter,
} from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

/** A deterministic volume [x, y, z] = [7, 6, 5] with an oblique affine (so axis names resolve non-trivially). */
function volume(): NiftiVolume {
  const dims = [7, 6, 5];
  const data = new Float32Array(7 * 6 * 5);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 100;
  const affine = [
    [0, 0, 1.5, -10],
    [1.2, 0.1, 0, 20],
    [0, 0.9, 0, -5.5],
    [0, 0, 0, 1],
  ];
  return new NiftiVolume({ dims, data, spacing: [1.2, 0.9, 1.5], affine, header: { sformCode: 1, sform: affine, qformCode: 0 } });
}

/** Labels a pixel by its row in the slice (row mod 3): shows where every slice pixel lands back in the volume. */
const rowSegmenter: VolumeSegmenter = {
  numClasses: 3,
  predict: (x) => tf.tidy(() => {
    const [n, h, w] = x.shape;
    return tf.tile(tf.reshape(tf.mod(tf.range(0, h, 1, 'int32'), 3), [1, h, 1]), [n, 1, w]);
  }),
};

/** Thresholds each voxel at 0.5; probabilities from a steep sigmoid so resizing can be checked. */
const thresholdSegmenter: VolumeSegmenter = {
  numClasses: 2,
  predict: (x) => tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [x.rank - 1]), 0.5), 'int32')),
  predictProba: (x) => tf.tidy(() => {
    const p = tf.sigmoid(tf.mul(tf.sub(x, 0.5), 50));
    return tf.concat([tf.sub(1, p), p], -1);
  }),
};

describe('segmentVolume', () => {
  beforeAll(() => setupBackend('cpu'));

  it('puts every slice pixel back where sliceVolume took it from, for each plane and row order', async () => {
    const vol = volume();
    for (const axis of ['axial', 'coronal', 'sagittal', 0, 1, 2] as const) {
      for (const flipRows of [true, false]) {
        const labels = await segmentVolume(vol, rowSegmenter, { axis, flipRows, batchSize: 2 });
        // Reference: slice the label volume as the model saw its input; each row must read r mod 3.
        const ax = resolveSliceAxis(vol.affine, axis);
        for (let k = 0; k < vol.dims[ax]; k++) {
          const s = sliceVolume(labels, ax, k, { flipRows });
          for (let r = 0; r < s.height; r++) for (let c = 0; c < s.width; c++) expect(s.data[r * s.width + c]).toBe(r % 3);
        }
      }
    }
  });

  it('matches the model applied to sliceVolume slices by hand (2-D UNetSegmenter)', async () => {
    const vol = volume();
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 3, channels: [4, 8], seed: 3 });
    const progress: number[] = [];
    const labels = await segmentVolume(vol, model, { axis: 'coronal', batchSize: 4, onProgress: (d) => progress.push(d) });
    expect(labels.dims).toEqual([7, 6, 5]);
    expect(labels.affine).toEqual(vol.affine);
    expect(labels.datatype).toBe('uint8');
    expect(labels.header.intentCode).toBe(1002);
    expect(progress).toEqual([4, 7]);
    for (let k = 0; k < 7; k++) {
      const s = sliceVolume(vol, 0, k, { flipRows: true });
      const want = model.predict(tf.tensor4d(s.data as Float32Array, [1, s.height, s.width, 1]));
      const got = sliceVolume(labels, 0, k, { flipRows: true });
      expect(Array.from(got.data)).toEqual(Array.from(want.dataSync()));
      want.dispose();
    }
    model.dispose();
  });

  it('resizes slices to the training size and back (size), and scales intensities', async () => {
    const vol = volume();
    const direct = await segmentVolume(vol, thresholdSegmenter);
    const same = await segmentVolume(vol, thresholdSegmenter, { size: [6, 7] });
    expect(Array.from(same.data)).toEqual(Array.from(direct.data));
    const upsampled = await segmentVolume(vol, thresholdSegmenter, { size: 32 });
    const agree = Array.from(upsampled.data).reduce((n, v, i) => n + (v === direct.data[i] ? 1 : 0), 0);
    expect(agree / direct.size).toBeGreaterThan(0.85);
    // 'none' vs a ×2 scale: the threshold moves from 0.5 to 0.25.
    const scaled = await segmentVolume(vol, thresholdSegmenter, { intensity: { scale: 2 } });
    const values = vol.toFloat32();
    expect(Array.from(scaled.data)).toEqual(Array.from(values, (v) => (2 * v > 0.5 ? 1 : 0)));
  });

  it('runs a 3-D model on the whole volume or by sliding window, without leaks', async () => {
    const vol = volume();
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [2, 4], spatialDims: 3, seed: 5 });
    const x = tf.tensor5d(vol.toFloat32(), [1, 5, 6, 7, 1]);
    const want = model.predict(x);
    const whole = await segmentVolume(vol, model);
    expect(Array.from(whole.data)).toEqual(Array.from(want.dataSync()));
    const sw = { roiSize: [4, 4, 4], overlap: 0.5, mode: 'gaussian' as const };
    const wantSw = model.predict(x, { slidingWindow: sw });
    const before = tf.memory().numTensors;
    const windows: number[] = [];
    const bySw = await segmentVolume(vol, model, { slidingWindow: sw, onProgress: (d) => windows.push(d) });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(bySw.data)).toEqual(Array.from(wantSw.dataSync()));
    expect(windows.length).toBeGreaterThan(1);
    tf.dispose([x, want, wantSw]);
    model.dispose();
  });

  it('refuses bad frames, sizes and multi-channel models', async () => {
    const vol = volume();
    await expect(segmentVolume(vol, rowSegmenter, { frame: 1 })).rejects.toThrow(ValueError);
    await expect(segmentVolume(vol, rowSegmenter, { size: 32 })).rejects.toThrow(/predictProba/);
    await expect(segmentVolume(vol, rowSegmenter, { axis: 'oblique' as never })).rejects.toThrow(ValueError);
    await expect(segmentVolume(vol, { ...rowSegmenter, net: { config: { inChannels: 2 } } })).rejects.toThrow(ShapeError);
  });
});

// nibabel is the reference for how other tools will read the written mask.
const python = '/usr/bin/python3';
const haveNibabel = spawnSync(python, ['-c', 'import nibabel'], { encoding: 'utf8' }).status === 0;
if (!haveNibabel) console.log(`[skip] segmentVolume + nibabel: ${python} cannot import nibabel (install the Debian package python3-nibabel)`);

describe.skipIf(!haveNibabel)('segmentVolume output read by nibabel', () => {
  beforeAll(() => setupBackend('cpu'));

  it('has the input affine, shape and the label values', async () => {
    const vol = volume();
    const labels = await segmentVolume(vol, thresholdSegmenter, { axis: 'sagittal' });
    const dir = mkdtempSync(join(tmpdir(), 'medvae-segvol-'));
    try {
      const file = join(dir, 'mask.nii.gz');
      writeFileSync(file, writeNifti(labels, { gzip: true }));
      // NIfTI stores the affine in float32.
      const back = readNifti(writeNifti(labels)).affine;
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(back[r][c]).toBe(Math.fround(vol.affine[r][c]));
      const script = [
        'import json, sys, nibabel as nib, numpy as np',
        'img = nib.load(sys.argv[1])',
        'd = np.asarray(img.dataobj)',
        'print(json.dumps({"shape": list(img.shape), "affine": img.affine.tolist(), "dtype": str(d.dtype), "data": d.ravel(order="F").tolist()}))',
      ].join('\n');
      const run = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const got = JSON.parse(run.stdout) as { shape: number[]; affine: number[][]; dtype: string; data: number[] };
      expect(got.shape).toEqual([7, 6, 5]);
      expect(got.dtype).toBe('uint8');
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(got.affine[r][c]).toBeCloseTo(vol.affine[r][c], 5);
      expect(got.data).toEqual(Array.from(labels.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
