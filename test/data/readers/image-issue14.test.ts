// PNG and JPEG cases from issue 14: a truecolour PNG with a suggested palette, JPEG frame headers
// that promise more pixels than the file can code, and JPEG errors that say something.
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../../src/core/errors.js';
import { crc32 } from '../../../src/data/readers/inflate.js';
import { readJpeg } from '../../../src/data/readers/jpeg.js';
import { readPng } from '../../../src/data/readers/png.js';

/** Inserts a chunk right after IHDR (signature 8 bytes + IHDR 25 bytes). */
function withChunk(png: Uint8Array, type: string, body: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + body.length);
  const v = new DataView(chunk.buffer);
  v.setUint32(0, body.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(body, 8);
  v.setUint32(8 + body.length, crc32(0, chunk.subarray(4, 8 + body.length)));
  const at = 8 + 25;
  return new Uint8Array([...png.subarray(0, at), ...chunk, ...png.subarray(at)]);
}

describe('readPng: truecolour with a suggested palette (PLTE in colour types 2 and 6)', () => {
  const w = 10;
  const h = 9;
  // A palette of reds that would turn every sample into something else if it were applied.
  const plte = new Uint8Array(256 * 3).map((_, i) => (i % 3 === 0 ? 255 - (i % 251) : 7));
  for (const channels of [3, 4] as const) {
    it(`colour type ${channels === 3 ? 2 : 6}: samples are the stored colours${channels === 4 ? ', alpha kept' : ''}`, () => {
      const data = new Uint8Array(w * h * channels).map((_, i) => (i * 29 + 11) & 255);
      const png = withChunk(encodePng({ width: w, height: h, channels, depth: 8, data }), 'PLTE', plte);
      const img = readPng(png, { name: 'suggested.png' });
      expect([img.width, img.height, img.channels, img.bitDepth]).toEqual([w, h, channels, 8]);
      expect(Array.from(img.data)).toEqual(Array.from(data));
    });
  }
});

function smallJpeg(): Uint8Array {
  const rgba = new Uint8Array(8 * 8 * 4).map((_, i) => (i * 13) & 255);
  return new Uint8Array(jpeg.encode({ width: 8, height: 8, data: rgba }, 50).data);
}

/** Offset of the SOF0 segment's height field. */
function sofAt(b: Uint8Array): number {
  for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xc0) return i + 5;
  throw new Error('no SOF0');
}

describe('readJpeg: sizes and messages', () => {
  it('refuses a small file whose frame header declares 10000×10000, before allocating', () => {
    const b = smallJpeg();
    const at = sofAt(b);
    b[at] = 10000 >> 8;
    b[at + 1] = 10000 & 255;
    b[at + 2] = 10000 >> 8;
    b[at + 3] = 10000 & 255;
    expect(b.length).toBeLessThan(1000);
    expect(() => readJpeg(b, { name: 'liar.jpg' })).toThrow(FileFormatError);
    expect(() => readJpeg(b, { name: 'liar.jpg' })).toThrow(
      new RegExp(`'liar\\.jpg': the frame header declares 10000×10000 pixels \\(1562500 blocks of 8×8\\), but ${b.length} bytes can code at most ${8 * b.length} blocks`),
    );
  });

  it('corrupt files give typed errors naming the file, never a decoder-internal TypeError text', () => {
    const w = 64;
    const h = 48;
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i * 37) & 255);
    const enc = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
    let seed = 1;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    let failures = 0;
    for (let t = 0; t < 600; t++) {
      const m = enc.slice();
      for (let k = 0; k < 3; k++) m[next() % m.length] = next() & 255;
      try {
        readJpeg(m, { name: 'm.jpg' });
      } catch (e) {
        failures++;
        expect(e).toBeInstanceOf(FileFormatError);
        const msg = (e as Error).message;
        expect(msg).toMatch(/^Cannot read JPEG from 'm\.jpg': /);
        expect(msg).not.toMatch(/undefined|Cannot (read|set) properties|is not a function/);
      }
    }
    expect(failures).toBeGreaterThan(100);
  });

  it('a scan that uses an undefined Huffman table is named as such', () => {
    const b = smallJpeg();
    // Point the first scan's first component at DC table 3 (never defined).
    let sos = -1;
    for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xda) { sos = i; break; }
    b[sos + 6] = (3 << 4) | (b[sos + 6] & 15);
    expect(() => readJpeg(b, { name: 't.jpg' })).toThrow(/'t\.jpg': scan 1 \(byte \d+\) uses DC Huffman table 3 for component 1, but no DHT segment defines it/);
  });
});
