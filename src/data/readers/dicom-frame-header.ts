// Reads the image size a compressed DICOM frame declares (JPEG / JPEG-LS SOF segment, JPEG 2000
// SIZ segment) without decoding it, so that a frame claiming more pixels than the DICOM header
// promises is refused before a decoder allocates memory for it.

/** Size and layout a compressed frame's own header declares. */
export interface FrameHeader {
  width: number;
  height: number;
  components: number;
  /** Sample precision in bits (for JPEG 2000, of the first component). */
  precision: number;
  /** The JPEG Start Of Frame marker (0xC0..0xCF, 0xF7 for JPEG-LS); absent for JPEG 2000. */
  sof?: number;
}

/** Reads the first JPEG / JPEG-LS frame header, or returns undefined when there is none. */
export function readJpegFrameHeader(b: Uint8Array): FrameHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1];
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    const len = (b[p + 2] << 8) | b[p + 3];
    const isSof = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
    if (isSof) {
      if (p + 10 > b.length) return undefined;
      return {
        sof: marker,
        precision: b[p + 4],
        height: (b[p + 5] << 8) | b[p + 6],
        width: (b[p + 7] << 8) | b[p + 8],
        components: b[p + 9],
      };
    }
    if (marker === 0xda || len < 2) return undefined; // scan data before any frame header
    p += 2 + len;
  }
  return undefined;
}

/**
 * Reads the SIZ segment of a JPEG 2000 / HTJ2K codestream (also inside a JP2 file, where the
 * codestream follows the boxes), or returns undefined when there is none.
 */
export function readJ2kFrameHeader(b: Uint8Array): FrameHeader | undefined {
  // Find SOC (FF 4F) followed by SIZ (FF 51) within the first few KiB (JP2 box headers come first).
  const limit = Math.min(b.length - 1, 8192);
  let p = -1;
  for (let i = 0; i + 3 < limit; i++) {
    if (b[i] === 0xff && b[i + 1] === 0x4f && b[i + 2] === 0xff && b[i + 3] === 0x51) {
      p = i + 2;
      break;
    }
  }
  if (p < 0 || p + 42 > b.length) return undefined;
  const u32 = (o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  // SIZ: marker(2) Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) XTsiz YTsiz XTOsiz YTOsiz(16) Csiz(2) Ssiz...
  const xsiz = u32(p + 6);
  const ysiz = u32(p + 10);
  const xo = u32(p + 14);
  const yo = u32(p + 18);
  const csiz = (b[p + 38] << 8) | b[p + 39];
  const ssiz = b[p + 40];
  return { width: xsiz - xo, height: ysiz - yo, components: csiz, precision: (ssiz & 0x7f) + 1 };
}

/**
 * For a 3-component JPEG whose DICOM header says RGB: when the stream carries neither a JFIF
 * (APP0) nor an Adobe (APP14) marker, libjpeg guesses the colour space from the component ids and
 * takes 1, 2, 3 as YCbCr, converting colours that were stored untransformed. This returns a copy
 * with the ids renamed 'R', 'G', 'B' (in the frame header and every scan header), which libjpeg
 * reads as "no transform"; otherwise it returns the input unchanged.
 */
export function markJpegAsRgb(b: Uint8Array): Uint8Array {
  let p = 2;
  let sofAt = -1;
  const sosAt: number[] = [];
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return b;
    const marker = b[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd9) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    const len = (b[p + 2] << 8) | b[p + 3];
    if (len < 2) return b;
    // libjpeg honours these markers only when they are full length (JFIF: 14 data bytes, Adobe: 12);
    // a short one is ignored and the component ids decide.
    if (marker === 0xe0 && len >= 16 && b[p + 4] === 0x4a && b[p + 5] === 0x46 && b[p + 6] === 0x49 && b[p + 7] === 0x46) return b; // JFIF
    if (marker === 0xee && len >= 14 && b[p + 4] === 0x41 && b[p + 5] === 0x64 && b[p + 6] === 0x6f && b[p + 7] === 0x62) return b; // Adobe
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && sofAt < 0) sofAt = p;
    p += 2 + len;
    if (marker === 0xda) {
      sosAt.push(p - 2 - len);
      // Skip entropy-coded data up to the next marker that is not a stuffed byte or restart marker.
      while (p + 1 < b.length && !(b[p] === 0xff && b[p + 1] !== 0 && !(b[p + 1] >= 0xd0 && b[p + 1] <= 0xd7))) p++;
    }
  }
  if (sofAt < 0 || b[sofAt + 9] !== 3 || sosAt.length === 0) return b;
  const ids = [b[sofAt + 10], b[sofAt + 13], b[sofAt + 16]];
  const rgb = [0x52, 0x47, 0x42];
  if (ids.every((id, i) => id === rgb[i])) return b;
  const out = b.slice();
  ids.forEach((_, i) => (out[sofAt + 10 + 3 * i] = rgb[i]));
  for (const s of sosAt) {
    const n = out[s + 4];
    for (let k = 0; k < n; k++) {
      const at = s + 5 + 2 * k;
      const i = ids.indexOf(out[at]);
      if (i >= 0) out[at] = rgb[i];
    }
  }
  return out;
}
