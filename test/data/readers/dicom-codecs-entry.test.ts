// The `medvae/dicom-codecs` entry (source): it hands the codec modules to readDicomAsync, and
// setDicomJpeg12WasmUrl decides where dcmjs-codecs loads its WebAssembly from (in Node a path).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dicomCodecs, setDicomJpeg12WasmUrl } from '../../../src/data/readers/dicom-codecs-entry.js';
import { DicomCodecMissingError, readDicomAsync } from '../../../src/index.js';
import { bytesOf, haveFiles, ROOT } from './helpers.js';

const JPG_EXTENDED = '/usr/lib/python3/dist-packages/pydicom/data/test_files/JPGExtended.dcm';

describe.skipIf(!haveFiles("pydicom's 12-bit JPEG Extended test file", JPG_EXTENDED))('medvae/dicom-codecs', () => {
  it('registers dcmjs-codecs; a wrong .wasm location is a typed error, and the right one then decodes', async () => {
    expect(dicomCodecs).toContain('jpeg12');
    setDicomJpeg12WasmUrl(join(ROOT, 'no-such-dir', 'dcmjs-native-codecs.wasm'));
    const err = await readDicomAsync(bytesOf(JPG_EXTENDED), { name: 'ext.dcm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DicomCodecMissingError);
    expect((err as Error).message).toMatch(/'ext\.dcm'.*dcmjs-codecs.*no-such-dir.*setDicomJpeg12WasmUrl/);
    // The failed load is not cached: with the file's real location the frame decodes.
    setDicomJpeg12WasmUrl(join(ROOT, 'node_modules', 'dcmjs-codecs', 'build', 'dcmjs-native-codecs.wasm'));
    const img = await readDicomAsync(bytesOf(JPG_EXTENDED));
    let sum = 0;
    for (const v of img.pixelData) sum += v;
    // GDCM 3.0.21's decode of the same file (test/fixtures/data/dicom/dicom_conformance.json).
    expect(sum).toBe(3767007);
  });
});
