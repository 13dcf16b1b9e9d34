// Builds small DICOM Part 10 files (explicit VR little endian datasets) for tests, so that cases
// no public test file covers (float pixel data, deflate bombs, lying headers) can be made.

/** One data element: tag as [group, element], VR, and its value bytes (or a string / numbers). */
export interface El {
  tag: [number, number];
  vr: string;
  value: Uint8Array | string | number[];
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'UT', 'UN', 'UC', 'UR']);

function valueBytes(e: El): Uint8Array {
  let b: Uint8Array;
  if (e.value instanceof Uint8Array) b = e.value;
  else if (typeof e.value === 'string') b = new TextEncoder().encode(e.value);
  else if (e.vr === 'US') b = new Uint8Array(Uint16Array.from(e.value).buffer);
  else if (e.vr === 'UL') b = new Uint8Array(Uint32Array.from(e.value).buffer);
  else throw new Error(`dicom-build: give ${e.vr} values as bytes or a string`);
  if (b.length % 2 === 0) return b;
  const padded = new Uint8Array(b.length + 1);
  padded.set(b);
  padded[b.length] = e.vr === 'UI' || e.vr === 'OB' ? 0 : 0x20;
  return padded;
}

/** Explicit VR little endian encoding of elements (sorted by the caller). */
export function encodeElements(els: El[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of els) {
    const v = valueBytes(e);
    const long = LONG_VRS.has(e.vr);
    const h = new DataView(new ArrayBuffer(long ? 12 : 8));
    h.setUint16(0, e.tag[0], true);
    h.setUint16(2, e.tag[1], true);
    h.setUint8(4, e.vr.charCodeAt(0));
    h.setUint8(5, e.vr.charCodeAt(1));
    if (long) h.setUint32(8, v.length, true);
    else h.setUint16(6, v.length, true);
    parts.push(new Uint8Array(h.buffer), v);
  }
  return concatBytes(parts);
}

/** Concatenation of byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Preamble, `DICM` and the file meta group for transfer syntax `ts`. */
export function metaHeader(ts: string): Uint8Array {
  const meta = encodeElements([
    { tag: [0x0002, 0x0001], vr: 'OB', value: new Uint8Array([0, 1]) },
    { tag: [0x0002, 0x0002], vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
    { tag: [0x0002, 0x0003], vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: [0x0002, 0x0010], vr: 'UI', value: ts },
  ]);
  const groupLength = encodeElements([{ tag: [0x0002, 0x0000], vr: 'UL', value: [meta.length] }]);
  const pre = new Uint8Array(132);
  pre.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concatBytes([pre, groupLength, meta]);
}

/** Image attributes (Samples per Pixel … Pixel Representation) as elements of group 0028. */
export function imageElements(a: { rows: number; columns: number; spp?: number; photometric?: string; bitsAllocated?: number; bitsStored?: number; signed?: boolean; frames?: number; planar?: number }): El[] {
  const els: El[] = [
    { tag: [0x0028, 0x0002], vr: 'US', value: [a.spp ?? 1] },
    { tag: [0x0028, 0x0004], vr: 'CS', value: a.photometric ?? 'MONOCHROME2' },
  ];
  if (a.planar !== undefined) els.push({ tag: [0x0028, 0x0006], vr: 'US', value: [a.planar] });
  if (a.frames !== undefined) els.push({ tag: [0x0028, 0x0008], vr: 'IS', value: String(a.frames) });
  els.push({ tag: [0x0028, 0x0010], vr: 'US', value: [a.rows] }, { tag: [0x0028, 0x0011], vr: 'US', value: [a.columns] });
  if (a.bitsAllocated !== undefined) {
    els.push(
      { tag: [0x0028, 0x0100], vr: 'US', value: [a.bitsAllocated] },
      { tag: [0x0028, 0x0101], vr: 'US', value: [a.bitsStored ?? a.bitsAllocated] },
      { tag: [0x0028, 0x0102], vr: 'US', value: [(a.bitsStored ?? a.bitsAllocated) - 1] },
      { tag: [0x0028, 0x0103], vr: 'US', value: [a.signed ? 1 : 0] },
    );
  }
  return els;
}

/** A whole explicit-VR-little-endian file: meta header plus `els`. */
export function dicomFile(els: El[], ts = '1.2.840.10008.1.2.1'): Uint8Array {
  return concatBytes([metaHeader(ts), encodeElements(els)]);
}

/** Encapsulated Pixel Data (PS3.5 A.4): undefined-length OB element, empty Basic Offset Table, one fragment per frame. */
export function encapsulatedPixelData(frames: Uint8Array[]): Uint8Array {
  const item = (tag: number, body: Uint8Array): Uint8Array => {
    const padded = body.length % 2 ? concatBytes([body, new Uint8Array(1)]) : body;
    const h = new DataView(new ArrayBuffer(8));
    h.setUint16(0, 0xfffe, true);
    h.setUint16(2, tag, true);
    h.setUint32(4, padded.length, true);
    return concatBytes([new Uint8Array(h.buffer), padded]);
  };
  const px = new DataView(new ArrayBuffer(12));
  px.setUint16(0, 0x7fe0, true);
  px.setUint16(2, 0x0010, true);
  px.setUint8(4, 0x4f);
  px.setUint8(5, 0x42); // OB
  px.setUint32(8, 0xffffffff, true);
  return concatBytes([new Uint8Array(px.buffer), item(0xe000, new Uint8Array(0)), ...frames.map((f) => item(0xe000, f)), item(0xe0dd, new Uint8Array(0))]);
}
