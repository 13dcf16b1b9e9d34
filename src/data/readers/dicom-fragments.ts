// Splits encapsulated (compressed) DICOM pixel data into one byte stream per frame (PS3.5 A.4).
import type dicomParser from 'dicom-parser';

/** Result of {@link frameStreams}: the frames' bytes, or a sentence saying why they cannot be found. */
export type FrameStreams = { frames: Uint8Array[] } | { problem: string };

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** True when a fragment ends a JPEG-family codestream (EOI FF D9 / J2K EOC FF D9, allowing one pad byte). */
function endsStream(b: Uint8Array): boolean {
  const n = b.length;
  if (n >= 2 && b[n - 2] === 0xff && b[n - 1] === 0xd9) return true;
  return n >= 3 && b[n - 3] === 0xff && b[n - 2] === 0xd9 && b[n - 1] === 0;
}

/**
 * The compressed bytes of each frame. Frames are found, in order of preference, from the Basic
 * Offset Table, from one fragment per frame, from a single frame spanning every fragment, or by
 * cutting after each fragment that ends with an end-of-image marker.
 */
export function frameStreams(arr: Uint8Array, px: dicomParser.Element, frames: number): FrameStreams {
  const fragments = px.fragments ?? [];
  if (fragments.length === 0) return { problem: 'the encapsulated Pixel Data has no fragments' };
  const bytesOf = (f: dicomParser.Fragment): Uint8Array | undefined =>
    f.position >= 0 && f.length >= 0 && f.position + f.length <= arr.length ? arr.subarray(f.position, f.position + f.length) : undefined;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < fragments.length; i++) {
    const b = bytesOf(fragments[i]);
    if (!b) return { problem: `fragment ${i} lies outside the file (the file is truncated)` };
    parts.push(b);
  }
  if (frames === 1) return { frames: [concat(parts)] };
  const bot = px.basicOffsetTable ?? [];
  if (bot.length === frames && bot[0] === 0 && bot.every((v, i) => i === 0 || v > bot[i - 1])) {
    const out: Uint8Array[] = [];
    for (let f = 0; f < frames; f++) {
      const lo = bot[f];
      const hi = f + 1 < frames ? bot[f + 1] : Number.POSITIVE_INFINITY;
      const mine = parts.filter((_, i) => fragments[i].offset >= lo && fragments[i].offset < hi);
      if (mine.length === 0) return { problem: `the Basic Offset Table points frame ${f} at offset ${lo}, where no fragment starts` };
      out.push(concat(mine));
    }
    return { frames: out };
  }
  if (fragments.length === frames) return { frames: parts };
  if (fragments.length < frames) return { problem: `there are ${fragments.length} fragment(s) for ${frames} frames` };
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  for (const p of parts) {
    pending.push(p);
    if (endsStream(p)) {
      out.push(concat(pending));
      pending = [];
    }
  }
  if (pending.length > 0) out.push(concat(pending));
  if (out.length !== frames) return { problem: `${fragments.length} fragments without a Basic Offset Table could not be split into ${frames} frames (found ${out.length} end-of-image markers)` };
  return { frames: out };
}
