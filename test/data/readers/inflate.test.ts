import { gzipSync, deflateSync, zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../src/core/errors.js';
import { GrowableBytes, checkAlloc, resolveMaxBytes } from '../../../src/data/readers/byte-budget.js';
import { crc32, inflateBounded, MAX_TRAILING_BYTES } from '../../../src/data/readers/inflate.js';

const opts = { format: 'TEST', name: 'x.gz', maxBytes: 2 ** 31 - 1 };

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s >>> 16) & 0x0f; // compressible but not trivial
  }
  return out;
}

describe('crc32', () => {
  it('matches the standard check value and is incremental', () => {
    const s = new TextEncoder().encode('123456789');
    expect(crc32(0, s)).toBe(0xcbf43926);
    const big = pattern(100_003);
    expect(crc32(crc32(0, big.subarray(0, 12345)), big.subarray(12345))).toBe(crc32(0, big));
  });
});

describe('inflateBounded', () => {
  it('round-trips gzip, zlib and raw deflate, with exactly sized buffers', () => {
    const data = pattern(300_000);
    for (const [c, z] of [
      ['gzip', gzipSync(data)],
      ['zlib', zlibSync(data)],
      ['raw', deflateSync(data)],
    ] as const) {
      const out = inflateBounded(z, c, opts);
      expect(out.length).toBe(data.length);
      expect(out.buffer.byteLength).toBe(data.length);
      expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('reads every member of a multi-member gzip, including members in the last input piece', () => {
    const a = pattern(200_000, 2);
    const b = pattern(1000, 3);
    const c = pattern(10, 4);
    const joined = new Uint8Array([...gzipSync(a), ...gzipSync(b), ...gzipSync(c)]);
    const out = inflateBounded(joined, 'gzip', opts);
    expect(Buffer.from(out).equals(Buffer.concat([a, b, c]))).toBe(true);
  });

  it('finds member boundaries that fall on, just before or just after an input piece boundary', () => {
    const tail = gzipSync(pattern(3000, 9));
    for (let d = -24; d <= 24; d++) {
      for (const piece of [1024, 16384]) {
        // Level 0: a member of n < 65535 bytes is n + 23 bytes long (10 header, 5 block, 8 trailer).
        const first = pattern(piece + d - 23, 5);
        const a = gzipSync(first, { level: 0 });
        expect(a.length).toBe(piece + d);
        const joined = new Uint8Array([...a, ...tail]);
        const out = inflateBounded(joined, 'gzip', opts);
        expect(out.length, `d=${d} piece=${piece}`).toBe(first.length + 3000);
        const kept = inflateBounded(joined, 'gzip', { ...opts, keep: { headBytes: 544, limit: () => first.length + 10 } });
        expect(kept.length).toBe(first.length + 10);
      }
    }
  });

  it('refuses a one-bit flip in the data (CRC-32) and a wrong ISIZE', () => {
    const data = pattern(50_000);
    const z = gzipSync(data, { level: 0 }); // stored blocks: a flipped bit changes one output byte
    const flipped = z.slice();
    flipped[z.length >> 1] ^= 0x10;
    expect(() => inflateBounded(flipped, 'gzip', opts)).toThrow(/CRC-32 is 0x[0-9a-f]{8} but the decompressed data gives/);
    const badSize = z.slice();
    new DataView(badSize.buffer).setUint32(badSize.length - 4, 2 ** 31 - 1, true);
    expect(() => inflateBounded(badSize, 'gzip', opts)).toThrow(/ISIZE trailer says 2147483647 bytes but it decompressed to 50000/);
    const badMiddle = new Uint8Array([...flipped, ...gzipSync(data)]);
    expect(() => inflateBounded(badMiddle, 'gzip', opts)).toThrow(/gzip member 1's CRC-32/);
  });

  it('refuses truncated streams and output past maxBytes', () => {
    const z = gzipSync(pattern(100_000));
    expect(() => inflateBounded(z.subarray(0, z.length - 3), 'gzip', opts)).toThrow(FileFormatError);
    expect(() => inflateBounded(z.subarray(0, 40), 'gzip', opts)).toThrow(FileFormatError);
    expect(() => inflateBounded(z, 'gzip', { ...opts, maxBytes: 99_999 })).toThrow(/exceeds the limit of 99999 bytes \(maxBytes\)/);
    expect(() => inflateBounded(new Uint8Array(5), 'gzip', opts)).toThrow(/not a gzip stream \(only 5 bytes/);
  });

  it('keeps only what the header asks for and refuses a long tail (bomb)', () => {
    const data = pattern(1000);
    const z = gzipSync(data);
    const kept = inflateBounded(z, 'gzip', { ...opts, keep: { headBytes: 4, limit: (h) => h.length + 96 } });
    expect(kept.length).toBe(100);
    expect(kept.buffer.byteLength).toBe(100);
    const bomb = gzipSync(new Uint8Array(MAX_TRAILING_BYTES + 200_000));
    expect(() => inflateBounded(bomb, 'gzip', { ...opts, keep: { headBytes: 4, limit: () => 100_000 } })).toThrow(/more than 16777216 bytes beyond the 100000 bytes its header declares/);
    expect(() => inflateBounded(bomb, 'gzip', { ...opts, maxBytes: 1000, keep: { headBytes: 4, limit: () => 5000 } })).toThrow(/limit of 1000 bytes/);
  });
});

describe('byte budget', () => {
  it('GrowableBytes holds exactly what was pushed and stops at its cap', () => {
    const g = new GrowableBytes(10, (n) => new FileFormatError(`over: ${n}`));
    g.push(new Uint8Array([1, 2, 3]));
    g.push(new Uint8Array([4, 5, 6]));
    expect(Array.from(g.bytes())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(g.bytes().buffer.byteLength).toBe(6);
    expect(() => g.push(new Uint8Array(5))).toThrow('over: 11');
  });

  it('checkAlloc and resolveMaxBytes refuse bad sizes with typed errors', () => {
    expect(() => checkAlloc('X', 'f', 11, 10, 'the pixels (dim[1..3])')).toThrow(/the pixels \(dim\[1..3\]\) would need 11 bytes, above the limit of 10/);
    expect(() => checkAlloc('X', 'f', NaN, 10, 'the pixels')).toThrow(FileFormatError);
    expect(resolveMaxBytes(undefined, 'X', 'f')).toBe(2 ** 31 - 1);
    expect(() => resolveMaxBytes(-1, 'X', 'f')).toThrow(/maxBytes option is -1/);
  });
});
