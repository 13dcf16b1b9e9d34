// Parsing of NIfTI-1, NIfTI-2 and Analyze 7.5 headers into one raw record (internal, not
// re-exported). Field offsets follow nifti1.h, nifti2.h and the Mayo Analyze 7.5 layout (with
// SPM's use of `funused1/2` as scale/intercept and `originator` as a voxel origin, as nibabel's
// Spm2AnalyzeHeader reads them).

/** Which header layout a file uses. */
export type HeaderKind = 'nifti1' | 'nifti2' | 'analyze';

/** Every header field the NIfTI/Analyze reader uses, as numbers and strings. */
export interface RawHeader {
  kind: HeaderKind;
  /** True for `n+1`/`n+2` (data in the same file); false for `ni1`/`ni2` pairs and Analyze. */
  single: boolean;
  littleEndian: boolean;
  /** 348 (NIfTI-1, Analyze) or 540 (NIfTI-2). */
  size: 348 | 540;
  /** `dim[0..7]`. */
  dim: number[];
  datatype: number;
  bitpix: number;
  /** `pixdim[0..7]` (pixdim[0] is qfac in NIfTI). */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  calMax: number;
  calMin: number;
  glMax: number;
  glMin: number;
  sliceDuration: number;
  toffset: number;
  sliceStart: number;
  sliceEnd: number;
  sliceCode: number;
  xyztUnits: number;
  intentCode: number;
  intentName: string;
  descrip: string;
  auxFile: string;
  dimInfo: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  /** srow_x, srow_y, srow_z (12 numbers). */
  srow: number[];
  /** Analyze (SPM) voxel origin, 1-based, from `originator`; zeros elsewhere. */
  origin: [number, number, number];
}

function ascii(bytes: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = bytes[at + i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** What kind of header the bytes start with, or null (with the magic/size found, for messages). */
export function sniffHeader(bytes: Uint8Array): { kind: HeaderKind; single: boolean; littleEndian: boolean } | null {
  if (bytes.length < 348) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le348 = v.getInt32(0, true) === 348;
  const be348 = v.getInt32(0, false) === 348;
  const le540 = v.getInt32(0, true) === 540;
  const be540 = v.getInt32(0, false) === 540;
  if ((le540 || be540) && bytes.length >= 540) {
    const m = ascii(bytes, 4, 4);
    if (m === 'n+2' || m === 'ni2') return { kind: 'nifti2', single: m === 'n+2', littleEndian: le540 };
  }
  if (le348 || be348) {
    const m = ascii(bytes, 344, 4);
    if (m === 'n+1' || m === 'ni1') return { kind: 'nifti1', single: m === 'n+1', littleEndian: le348 };
    return { kind: 'analyze', single: false, littleEndian: le348 };
  }
  return null;
}

/** Parses the header `sniffHeader` recognised; `bytes` must hold its 348 or 540 bytes. */
export function parseHeader(bytes: Uint8Array, kind: HeaderKind, single: boolean, le: boolean): RawHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const i16 = (at: number): number => v.getInt16(at, le);
  const i32 = (at: number): number => v.getInt32(at, le);
  const f32 = (at: number): number => v.getFloat32(at, le);
  const f64 = (at: number): number => v.getFloat64(at, le);
  const i64 = (at: number): number => Number(v.getBigInt64(at, le));
  if (kind === 'nifti2') {
    return {
      kind,
      single,
      littleEndian: le,
      size: 540,
      datatype: i16(12),
      bitpix: i16(14),
      dim: Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k)),
      pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
      voxOffset: i64(168),
      sclSlope: f64(176),
      sclInter: f64(184),
      calMax: f64(192),
      calMin: f64(200),
      glMax: 0,
      glMin: 0,
      sliceDuration: f64(208),
      toffset: f64(216),
      sliceStart: i64(224),
      sliceEnd: i64(232),
      descrip: ascii(bytes, 240, 80),
      auxFile: ascii(bytes, 320, 24),
      qformCode: i32(344),
      sformCode: i32(348),
      quatern: [f64(352), f64(360), f64(368)],
      qoffset: [f64(376), f64(384), f64(392)],
      srow: Array.from({ length: 12 }, (_, k) => f64(400 + 8 * k)),
      sliceCode: i32(496),
      xyztUnits: i32(500),
      intentCode: i32(504),
      intentName: ascii(bytes, 508, 16),
      dimInfo: bytes[524],
      origin: [0, 0, 0],
    };
  }
  const nifti = kind === 'nifti1';
  return {
    kind,
    single,
    littleEndian: le,
    size: 348,
    dimInfo: nifti ? bytes[39] : 0,
    dim: Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k)),
    intentCode: nifti ? i16(68) : 0,
    datatype: i16(70),
    bitpix: i16(72),
    sliceStart: nifti ? i16(74) : 0,
    pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    sliceEnd: nifti ? i16(120) : 0,
    sliceCode: nifti ? bytes[122] : 0,
    xyztUnits: nifti ? bytes[123] : 0,
    calMax: f32(124),
    calMin: f32(128),
    sliceDuration: nifti ? f32(132) : 0,
    toffset: nifti ? f32(136) : 0,
    glMax: i32(140),
    glMin: i32(144),
    descrip: ascii(bytes, 148, 80),
    auxFile: ascii(bytes, 228, 24),
    qformCode: nifti ? i16(252) : 0,
    sformCode: nifti ? i16(254) : 0,
    quatern: nifti ? [f32(256), f32(260), f32(264)] : [0, 0, 0],
    qoffset: nifti ? [f32(268), f32(272), f32(276)] : [0, 0, 0],
    srow: nifti ? Array.from({ length: 12 }, (_, k) => f32(280 + 4 * k)) : new Array<number>(12).fill(0),
    intentName: nifti ? ascii(bytes, 328, 16) : '',
    // Analyze's `originator` (byte 253, unaligned) holds SPM's 1-based origin as int16s.
    origin: nifti ? [0, 0, 0] : [i16(253), i16(255), i16(257)],
  };
}
