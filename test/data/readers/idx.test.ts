import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FileFormatError, readIdx, readIdxFile } from '../../../src/index.js';
import { b64, fixture } from './helpers.js';

const ARRAYS = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };

describe('readIdx on files built in Python (gen_readers.py)', () => {
  for (const [dtype, c] of Object.entries(fixture.idx as Record<string, { b64: string; gz: string; dims: number[]; values: number[] }>)) {
    it(`${dtype}: raw and gzipped, big-endian values converted`, () => {
      for (const bytes of [b64(c.b64), b64(c.gz)]) {
        const a = readIdx(bytes, { name: `${dtype}.idx` });
        expect(a.dtype).toBe(dtype);
        expect(a.dims).toEqual(c.dims);
        expect(a.data).toBeInstanceOf(ARRAYS[dtype as keyof typeof ARRAYS]);
        const expected = dtype === 'float32' ? c.values.map(Math.fround) : c.values;
        expect(Array.from(a.data)).toEqual(expected);
      }
    });
  }
});

describe('readIdx failures', () => {
  const good = b64(fixture.idx.int16.b64);

  it('checks magic, type code and sizes, naming the file', () => {
    expect(() => readIdx(good.subarray(0, good.length - 1), { name: 'cut.idx' })).toThrow(/'cut\.idx'.*need 48 data bytes but the file has 47.*truncated/);
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    expect(() => readIdx(trailing)).toThrow(/trailing bytes/);
    const badMagic = good.slice();
    badMagic[0] = 1;
    expect(() => readIdx(badMagic)).toThrow(/magic number/);
    const badType = good.slice();
    badType[2] = 0x0a;
    expect(() => readIdx(badType)).toThrow(/element type code 0xa/);
    expect(() => readIdx(good.subarray(0, 10))).toThrow(FileFormatError);
    expect(() => readIdx(new Uint8Array([0, 0, 8, 0]))).toThrow(/0 dimensions/);
  });

  it('refuses a lying header before allocating, and caps gzip output', () => {
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(4, 0xffffffff);
    expect(() => readIdx(lying)).toThrow(/limit of/);
    expect(() => readIdx(gzipSync(new Uint8Array(1 << 20)), { maxBytes: 1000 })).toThrow(/exceeds the limit of 1000/);
  });

  it('readIdxFile names a missing path', async () => {
    await expect(readIdxFile('/nonexistent/t10k.idx')).rejects.toThrow(/t10k\.idx/);
  });
});
