import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  FileFormatError,
  NiftiVolume,
  ShapeError,
  ValueError,
  orientationCodes,
  readNifti,
  readNiftiFile,
  reorientVolume,
  sliceVolume,
  writeNifti,
  type Matrix4,
} from '../../../src/index.js';
import { expectClose } from '../../helpers/tf.js';
import { b64, fixture } from './helpers.js';

const small = fixture.nifti_small;

function flat(m: Matrix4): number[] {
  return m.flat();
}

describe('readNifti on files built byte by byte (gen_readers.py)', () => {
  it('reads big-endian int16 with a qform only (qfac −1, rotation), as nifti1_io computes it', () => {
    const c = small.be_qform;
    const v = readNifti(b64(c.b64), { name: 'be.nii' });
    expect(v.dims).toEqual(c.dims);
    expect(v.datatype).toBe('int16');
    expect(v.data).toBeInstanceOf(Int16Array);
    expect(Array.from(v.data)).toEqual(c.values);
    expectClose(flat(v.affine), (c.affine as number[][]).flat(), 1e-6, 1e-6, 'qform affine');
    expectClose(v.spacing, c.spacing, 0, 0, 'spacing');
    expect(v.header.qformCode).toBe(1);
    expect(v.header.sformCode).toBe(0);
    expect(v.header.sform).toBeNull();
    expect(v.header.descrip).toBe('big endian qform');
    expect(v.header.spatialUnit).toBe('mm');
    expect(v.header.temporalUnit).toBe('sec');
    expect(v.sclSlope).toBe(1);
    expect(v.sclInter).toBe(0);
  });

  it('reads gzipped uint8 4-D data with scl_slope/scl_inter and an sform', () => {
    const c = small.le_sform_scaled_gz;
    const v = readNifti(b64(c.b64).buffer as ArrayBuffer);
    expect(v.dims).toEqual(c.dims);
    expect(v.datatype).toBe('uint8');
    expect(Array.from(v.data)).toEqual(c.values);
    expect(v.sclSlope).toBe(0.5);
    expect(v.sclInter).toBe(-3);
    expectClose(v.toFloat32(), c.float_values, 0, 0, 'scaled values');
    expectClose(flat(v.affine), (c.affine as number[][]).flat(), 0, 0, 'sform');
    expect(v.spacing).toEqual(c.spacing);
    expect(orientationCodes(v.affine)).toBe('PSL');
  });

  it('reads NIfTI-2 with float64 voxels and a float64 sform', () => {
    const c = small.nifti2_f64;
    const v = readNifti(b64(c.b64));
    expect(v.header.version).toBe(2);
    expect(v.dims).toEqual(c.dims);
    expect(v.datatype).toBe('float64');
    expect(Array.from(v.data)).toEqual(c.values);
    expect(flat(v.affine)).toEqual((c.affine as number[][]).flat());
    expect([v.sclSlope, v.sclInter]).toEqual(c.scl);
    expect(v.header.descrip).toBe('nifti2');
    expect(v.header.sformCode).toBe(3);
  });
});

describe('writeNifti', () => {
  const affine: Matrix4 = [
    [0, 0, -2, 50],
    [-1.5, 0, 0, 10],
    [0, 1, 0, -7],
    [0, 0, 0, 1],
  ];
  const cases: [string, () => NiftiVolume][] = [
    ['int16 with an oblique-free sform', () => new NiftiVolume({ dims: [3, 4, 5], data: Int16Array.from({ length: 60 }, (_, i) => i * 37 - 900), spacing: [1.5, 1, 2], affine })],
    ['float64 4-D', () => new NiftiVolume({ dims: [2, 3, 2, 2], data: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e10), spacing: [0.5, 0.25, 4, 2.5] })],
    ['uint32 with scaling', () => new NiftiVolume({ dims: [2, 2, 2], data: Uint32Array.from([0, 1, 2, 4e9, 5, 6, 7, 8]), sclSlope: 0.25, sclInter: 100 })],
    ['int8', () => new NiftiVolume({ dims: [4, 1, 2], data: Int8Array.from([-128, -1, 0, 1, 2, 3, 127, 5]) })],
  ];
  for (const [what, make] of cases) {
    it(`round-trips ${what} exactly (raw and gzipped)`, () => {
      const vol = make();
      for (const gzip of [false, true]) {
        const back = readNifti(writeNifti(vol, { gzip }), { name: what });
        expect(back.dims).toEqual(vol.dims);
        expect(back.datatype).toBe(vol.datatype);
        expect(back.data.constructor).toBe(vol.data.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(vol.data));
        expect(back.spacing).toEqual(vol.spacing);
        expect(back.affine).toEqual(vol.affine);
        expect(back.sclSlope).toBe(vol.sclSlope);
        expect(back.sclInter).toBe(vol.sclInter);
      }
    });
  }

  it('also stores a matching qform, and preserves header text and codes', () => {
    const vol = new NiftiVolume({
      dims: [3, 4, 5],
      data: new Uint8Array(60),
      spacing: [1.5, 1, 2],
      affine,
      header: { descrip: 'medvae test', intentCode: 1002, intentName: 'labels', sformCode: 4, calMin: 1, calMax: 9 },
    });
    const back = readNifti(writeNifti(vol));
    expect(back.header.descrip).toBe('medvae test');
    expect(back.header.intentCode).toBe(1002);
    expect(back.header.intentName).toBe('labels');
    expect(back.header.sformCode).toBe(4);
    expect(back.header.qformCode).toBe(4);
    expect([back.header.calMin, back.header.calMax]).toEqual([1, 9]);
    expectClose(flat(back.header.qform!), flat(affine), 1e-6, 1e-5, 'qform');
  });

  it('round-trips a volume read from a file, header included', () => {
    const v = readNifti(b64(small.be_qform.b64));
    const back = readNifti(writeNifti(v, { gzip: true }));
    expect(Array.from(back.data)).toEqual(Array.from(v.data));
    expectClose(flat(back.affine), flat(v.affine), 1e-6, 1e-5, 'affine');
    expect(back.spacing).toEqual(v.spacing);
    expect(back.header.descrip).toBe(v.header.descrip);
    expect(back.header.xyztUnits).toBe(v.header.xyztUnits);
  });

  it('refuses dimensions NIfTI-1 cannot store', () => {
    const v = new NiftiVolume({ dims: [40000, 1, 1], data: new Uint8Array(40000) });
    expect(() => writeNifti(v)).toThrow(ValueError);
  });
});

describe('NiftiVolume', () => {
  it('checks data length, dims and type', () => {
    expect(() => new NiftiVolume({ dims: [2, 2, 2], data: new Uint8Array(7) })).toThrow(ShapeError);
    expect(() => new NiftiVolume({ dims: [2, 0, 2], data: new Uint8Array(0) })).toThrow(/positive integers/);
    expect(() => new NiftiVolume({ dims: [2], data: new BigInt64Array(2) as unknown as Uint8Array })).toThrow(ValueError);
    const v = new NiftiVolume({ dims: [2, 3], data: new Float32Array(6) });
    expect(v.dims).toEqual([2, 3, 1]);
    expect(v.spacing).toEqual([1, 1, 1]);
  });
});

describe('readNifti failures', () => {
  const good = writeNifti(new NiftiVolume({ dims: [4, 4, 4], data: new Int16Array(64).fill(7) }));

  it('names the file and the problem for truncated data', () => {
    expect(() => readNifti(good.subarray(0, good.length - 1), { name: 'cut.nii' })).toThrow(FileFormatError);
    expect(() => readNifti(good.subarray(0, good.length - 1), { name: 'cut.nii' })).toThrow(/'cut\.nii'.*128 bytes.*127.*truncated/);
    expect(() => readNifti(good.subarray(0, 200), { name: 'h.nii' })).toThrow(/shorter than the 348-byte/);
  });

  it('refuses wrong formats, hdr/img pairs and unsupported datatypes', () => {
    expect(() => readNifti(new Uint8Array(400))).toThrow(/no NIfTI magic/);
    const pair = good.slice();
    pair.set([0x6e, 0x69, 0x31, 0], 344);
    expect(() => readNifti(pair, { name: 'x.hdr' })).toThrow(/\.hdr\/\.img pair/);
    const rgb = good.slice();
    new DataView(rgb.buffer).setInt16(70, 128, true);
    expect(() => readNifti(rgb)).toThrow(/field datatype is rgb24, which is not read/);
    const big = good.slice();
    new DataView(big.buffer).setInt16(42, 30000, true);
    expect(() => readNifti(big)).toThrow(/truncated/);
  });

  it('checks declared sizes against maxBytes before allocating', () => {
    expect(() => readNifti(good, { maxBytes: 100 })).toThrow(/limit of 100/);
  });

  it('caps gzip output, whatever the trailer claims', () => {
    // 4 MB of zeros compresses to ~4 KB: a small bomb.
    const bomb = gzipSync(new Uint8Array(4 << 20));
    // Zeros: sizeof_hdr 0, so the head itself is refused before the rest is inflated.
    expect(() => readNifti(bomb, { name: 'bomb.nii.gz', maxBytes: 1 << 20 })).toThrow(/'bomb\.nii\.gz'.*sizeof_hdr is 0/);
    const lying = gzipSync(good);
    new DataView(lying.buffer).setUint32(lying.length - 4, 0xfffffff0, true); // ISIZE says 4 GB
    // A wrong ISIZE is corruption (Python's gzip, hence nibabel, refuses it too).
    expect(() => readNifti(lying, { name: 'lying.nii.gz' })).toThrow(/'lying\.nii\.gz'.*ISIZE trailer says 4294967280 bytes/);
    const gz = gzipSync(good);
    expect(() => readNifti(gz.subarray(0, gz.length >> 1), { name: 'cut.nii.gz' })).toThrow(/'cut\.nii\.gz'.*(truncated|corrupt)/);
  });

  it('readNiftiFile rejects a missing path with the path in the message', async () => {
    await expect(readNiftiFile('/nonexistent/x.nii.gz')).rejects.toThrow(/x\.nii\.gz/);
  });
});

/** World position of voxel (i, j, k). */
function world(a: Matrix4, i: number, j: number, k: number): number[] {
  return [0, 1, 2].map((r) => a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3]);
}

describe('reorientVolume', () => {
  const base = readNifti(b64(small.le_sform_scaled_gz.b64)); // PSL, 4-D
  for (const target of ['RAS', 'LPS', 'LAS', 'IPR', 'PSL', 'ALI']) {
    it(`${base.dims.join('×')} PSL → ${target}: every voxel keeps its value and world position`, () => {
      const r = reorientVolume(base, target);
      expect(orientationCodes(r.affine)).toBe(target);
      expect(r.data.constructor).toBe(base.data.constructor);
      expect(r.dims[3]).toBe(base.dims[3]);
      // Build a world-position → value map of the source, then look every output voxel up in it.
      const key = (p: number[]): string => p.map((v) => Math.round(v * 1000)).join(',');
      const [X, Y, Z] = base.dims;
      for (let t = 0; t < base.dims[3]; t++) {
        const src = new Map<string, number>();
        for (let k = 0; k < Z; k++) for (let j = 0; j < Y; j++) for (let i = 0; i < X; i++) src.set(key(world(base.affine, i, j, k)), base.data[i + X * (j + Y * (k + Z * t))]);
        const [x2, y2, z2] = r.dims;
        for (let k = 0; k < z2; k++) {
          for (let j = 0; j < y2; j++) {
            for (let i = 0; i < x2; i++) {
              expect(r.data[i + x2 * (j + y2 * (k + z2 * t))]).toBe(src.get(key(world(r.affine, i, j, k))));
            }
          }
        }
      }
      // Spacing follows the axes.
      for (let k = 0; k < 3; k++) expect(r.spacing[k]).toBeCloseTo(Math.hypot(r.affine[0][k], r.affine[1][k], r.affine[2][k]), 5);
      // And it still writes and reads back.
      expect(readNifti(writeNifti(r)).affine).toEqual(r.affine.map((row) => row.map((v) => Math.fround(v))));
    });
  }

  it('handles an oblique (rotated) affine: nearest axes, positions kept', () => {
    const c = Math.cos(0.35);
    const s = Math.sin(0.35);
    // Voxel axes: i → −x, j → rotated towards +z, k → rotated towards −y: codes 'LSP'.
    const affine: Matrix4 = [
      [-2, 0, 0, 30],
      [0, s * 1.5, -c * 3, -4],
      [0, c * 1.5, s * 3, 12],
      [0, 0, 0, 1],
    ];
    const vol = new NiftiVolume({ dims: [3, 4, 5], data: Float32Array.from({ length: 60 }, (_, i) => i), spacing: [2, 1.5, 3], affine });
    expect(orientationCodes(vol.affine)).toBe('LSP');
    const r = reorientVolume(vol, 'RAS');
    expect(orientationCodes(r.affine)).toBe('RAS');
    expect(r.dims).toEqual([3, 5, 4]);
    expect(r.spacing).toEqual([2, 3, 1.5]);
    for (let k = 0; k < 4; k++) {
      for (let j = 0; j < 5; j++) {
        for (let i = 0; i < 3; i++) {
          // Find the source voxel at the same world position.
          const p = world(r.affine, i, j, k);
          const src = vol.data.findIndex((_, n) => {
            const q = world(vol.affine, n % 3, Math.floor(n / 3) % 4, Math.floor(n / 12));
            return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 1e-9;
          });
          expect(r.data[i + 3 * (j + 5 * k)]).toBe(src);
        }
      }
    }
  });

  it('rejects malformed orientation codes', () => {
    expect(() => reorientVolume(base, 'RAR')).toThrow(ValueError);
    expect(() => reorientVolume(base, 'RA')).toThrow(/three letters/);
  });
});

describe('sliceVolume', () => {
  const dims = [4, 3, 2];
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  const ras = new NiftiVolume({ dims, data: data.slice(), sclSlope: 2, sclInter: 1 });

  it('takes planes by voxel axis with scaling applied', () => {
    const ax = sliceVolume(ras, 2, 1); // z = 1: width x (4), height y (3)
    expect([ax.width, ax.height, ax.channels]).toEqual([4, 3, 1]);
    expect(Array.from(ax.data)).toEqual(Array.from({ length: 12 }, (_, n) => 2 * (12 + n) + 1));
    const sag = sliceVolume(ras, 0, 3); // x = 3: width y, height z
    expect([sag.width, sag.height]).toEqual([3, 2]);
    expect(Array.from(sag.data)).toEqual([3, 7, 11, 15, 19, 23].map((v) => 2 * v + 1));
    const cor = sliceVolume(ras, 1, 2, { flipRows: true }); // y = 2: width x, height z, z reversed
    expect(Array.from(cor.data)).toEqual([20, 21, 22, 23, 8, 9, 10, 11].map((v) => 2 * v + 1));
  });

  it('resolves anatomical names through the affine', () => {
    expect(sliceVolume(ras, 'axial', 1).data).toEqual(sliceVolume(ras, 2, 1).data);
    // Stored as PSL: sagittal (L–R) is voxel axis 2, axial (S–I) is voxel axis 1.
    const psl = readNifti(b64(small.le_sform_scaled_gz.b64));
    expect(sliceVolume(psl, 'sagittal', 0).width).toBe(psl.dims[0]);
    expect(sliceVolume(psl, 'sagittal', 0).height).toBe(psl.dims[1]);
    expect(sliceVolume(psl, 'axial', 0).height).toBe(psl.dims[2]);
    // The same anatomical plane after reorienting to RAS holds the same values (as a set).
    const r = reorientVolume(psl, 'RAS');
    const a = Array.from(sliceVolume(psl, 'axial', 1, { frame: 1 }).data).sort((x, y) => x - y);
    const b = Array.from(sliceVolume(r, "axial", 1, { frame: 1 }).data).sort((x, y) => x - y);
    expect(b).toEqual(a);
  });

  it('rejects out-of-range indices, frames and unknown axes', () => {
    expect(() => sliceVolume(ras, 2, 2)).toThrow(/outside 0\.\.1/);
    expect(() => sliceVolume(ras, 2, 0, { frame: 1 })).toThrow(ValueError);
    expect(() => sliceVolume(ras, 'transverse' as 'axial', 0)).toThrow(/sagittal/);
  });
});
