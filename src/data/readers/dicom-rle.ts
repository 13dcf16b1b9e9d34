// DICOM RLE Lossless decoding (PS3.5 Annex G). Internal: used by readDicom.

/**
 * Decodes one RLE frame into `out` as interleaved little-endian samples.
 *
 * The frame starts with a 64-byte header (segment count, then 15 segment offsets). There is one
 * segment per byte of each sample, most significant byte first, each a PackBits stream of
 * `pixels` bytes. Every loop step consumes input, and output is clamped to the segment size, so
 * corrupt input can neither hang nor overrun. Returns an error message, or null on success.
 */
export function decodeRleFrame(frame: Uint8Array, out: Uint8Array, pixels: number, spp: number, bytesPer: number): string | null {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nseg = view.getUint32(0, true);
  const expected = spp * bytesPer;
  if (nseg !== expected) return `header declares ${nseg} segments, expected ${expected} (${spp} sample(s) × ${bytesPer} byte(s))`;
  const stride = expected; // bytes per pixel in the output
  for (let s = 0; s < nseg; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < nseg ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end < start || end > frame.length) {
      return `segment ${s} offsets ${start}..${end} lie outside the ${frame.length}-byte fragment`;
    }
    // Segment s holds byte (bytesPer − 1 − s % bytesPer) of sample floor(s / bytesPer): MSB first.
    const sample = Math.floor(s / bytesPer);
    const byteInSample = bytesPer - 1 - (s % bytesPer);
    let o = sample * bytesPer + byteInSample;
    let written = 0;
    let i = start;
    while (i < end && written < pixels) {
      const n = frame[i++];
      if (n < 128) {
        // Literal run of n + 1 bytes.
        const count = Math.min(n + 1, end - i, pixels - written);
        for (let k = 0; k < count; k++, o += stride) out[o] = frame[i + k];
        i += n + 1;
        written += count;
      } else if (n > 128) {
        // Repeat the next byte 257 − n times.
        if (i >= end) break;
        const v = frame[i++];
        const count = Math.min(257 - n, pixels - written);
        for (let k = 0; k < count; k++, o += stride) out[o] = v;
        written += count;
      }
      // n === 128 is a no-op.
    }
    if (written < pixels) return `segment ${s} decodes to ${written} bytes, expected ${pixels}`;
  }
  return null;
}
