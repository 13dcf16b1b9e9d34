import { gzipSync } from 'fflate';
import * as nifti from 'nifti-reader-js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { affineToQuatern, quaternToAffine, type Quatern } from './affine.js';
import {
  checkAlloc,
  DEFAULT_MAX_BYTES,
  formatError,
  guard,
  inflateCapped,
  isGzip,
  product,
  readFileBytes,
  toBytes,
  type BytesLike,
} from './internal.js';
import type { Matrix4, ReadOptions } from './types.js';
import { NiftiVolume, type NiftiDatatype, type NiftiHeader, type SpatialUnit, type TemporalUnit, type VolumeArray } from './volume.js';

const FORMAT = 'NIfTI';

interface TypeInfo {
  name: NiftiDatatype;
  bytes: number;
  make: (buf: ArrayBuffer, offset: number, length: number) => VolumeArray;
}

const TYPES: Record<number, TypeInfo> = {
  2: { name: 'uint8', bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  4: { name: 'int16', bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  8: { name: 'int32', bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  16: { name: 'float32', bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  64: { name: 'float64', bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  256: { name: 'int8', bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  512: { name: 'uint16', bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  768: { name: 'uint32', bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
};

const UNSUPPORTED_TYPES: Record<number, string> = {
  0: 'unknown (0)',
  1: 'binary (1-bit)',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

const CODE_OF: Record<NiftiDatatype, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

const SPATIAL: Record<number, SpatialUnit> = { 0: 'unknown', 1: 'meter', 2: 'mm', 3: 'micron' };
const TEMPORAL: Record<number, TemporalUnit> = { 0: 'unknown', 8: 'sec', 16: 'msec', 24: 'usec', 32: 'hz', 40: 'ppm', 48: 'rads' };

/** Options of {@link readNifti}. */
export interface ReadNiftiOptions extends ReadOptions {}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Reads a NIfTI-1 or NIfTI-2 image (`.nii`, or gzipped `.nii.gz`: detected by its magic bytes)
 * into a {@link NiftiVolume}.
 *
 * The header is parsed by `nifti-reader-js`; medvae then checks every size it declares against
 * the bytes actually present before allocating anything, so truncated or corrupt files throw a
 * `FileFormatError` naming the file and the problem instead of returning garbage. Gzip output is
 * capped by `maxBytes`. Big-endian files are byte-swapped. Only single-file images (`n+1`/`n+2`)
 * are read; split `.hdr`/`.img` pairs are refused.
 *
 * The affine comes from the sform when its code is > 0, else from the qform (computed as
 * nifti1_io.c does), else `diag(pixdim)`, matching nibabel's `get_best_affine` order.
 *
 * @example
 * ```ts
 * const t1 = readNifti(await fs.readFile('ch2.nii.gz'), { name: 'ch2.nii.gz' });
 * t1.dims;          // [181, 217, 181]
 * const x = t1.toFloat32();
 * ```
 */
export function readNifti(input: BytesLike, options: ReadNiftiOptions = {}): NiftiVolume {
  const { name } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = toBytes(input);
  let owned = false;
  if (isGzip(bytes)) {
    bytes = inflateCapped(bytes, 'gzip', FORMAT, name, maxBytes);
    owned = true;
  }
  if (bytes.length < 348) {
    throw formatError(FORMAT, name, `only ${bytes.length} bytes, shorter than the 348-byte NIfTI-1 header`, 'The file is truncated or not NIfTI.');
  }
  // Hand the parser exactly one header's bytes: it then never walks (possibly corrupt) extensions.
  const headerBuf = (len: number): ArrayBuffer => bytes.slice(0, len).buffer as ArrayBuffer;
  const probe = headerBuf(Math.min(bytes.length, 540));
  let version: 1 | 2;
  if (nifti.isNIFTI1(probe, false)) version = 1;
  else if (bytes.length >= 540 && nifti.isNIFTI2(probe, false)) version = 2;
  else if (nifti.isNIFTI1(probe, true) || (bytes.length >= 540 && nifti.isNIFTI2(probe, true))) {
    throw formatError(FORMAT, name, 'it is the header of a .hdr/.img pair (magic "ni1"/"ni2")', 'Convert it to a single .nii file (e.g. with `fslchfiletype NIFTI` or nibabel).');
  } else {
    throw formatError(FORMAT, name, 'no NIfTI magic ("n+1" at byte 344 or "n+2" at byte 4)', 'The file is not NIfTI (or is corrupt).');
  }
  const headerSize = version === 1 ? 348 : 540;
  const hdr = guard(FORMAT, name, 'header parsing', () => nifti.readHeader(headerBuf(headerSize), false));
  const le = hdr.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Dimensions.
  const ndim = hdr.dims[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw formatError(FORMAT, name, `dim[0] (number of dimensions) is ${ndim}, expected 1 to 7`);
  }
  const dims = hdr.dims.slice(1, 1 + ndim);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw formatError(FORMAT, name, `dimensions [${dims.join(', ')}] must be positive integers`);
  }
  while (dims.length < 3) dims.push(1);

  // Datatype.
  const info = TYPES[hdr.datatypeCode];
  if (!info) {
    const what = UNSUPPORTED_TYPES[hdr.datatypeCode] ?? `unknown code ${hdr.datatypeCode}`;
    throw formatError(FORMAT, name, `datatype ${what} is not supported (scalar int8/uint8/int16/uint16/int32/uint32/float32/float64 are)`, 'Convert the image to a scalar type first.');
  }

  // Voxel data location and size, checked before allocating.
  const voxOffset = version === 1 ? Math.floor(hdr.vox_offset) : hdr.vox_offset;
  if (!Number.isSafeInteger(voxOffset) || voxOffset < headerSize) {
    throw formatError(FORMAT, name, `vox_offset ${hdr.vox_offset} lies inside the ${headerSize}-byte header`);
  }
  const count = product(dims);
  const nbytes = count * info.bytes;
  checkAlloc(FORMAT, name, nbytes, maxBytes, `the voxel data (${dims.join('×')} ${info.name})`);
  if (voxOffset + nbytes > bytes.length) {
    throw formatError(
      FORMAT,
      name,
      `the header declares ${dims.join('×')} ${info.name} voxels (${nbytes} bytes from offset ${voxOffset}) but the file has only ${Math.max(0, bytes.length - voxOffset)} bytes there`,
      'The file is truncated.',
    );
  }

  // Copy unless we own an aligned buffer already (decompressed data); swap big-endian data.
  const start = bytes.byteOffset + voxOffset;
  const needSwap = le !== hostLittleEndian;
  let data: VolumeArray;
  if (owned && !needSwap && start % info.bytes === 0) {
    data = info.make(bytes.buffer as ArrayBuffer, start, count);
  } else {
    const copy = bytes.slice(voxOffset, voxOffset + nbytes);
    if (needSwap) swapBytes(copy, info.bytes);
    data = info.make(copy.buffer as ArrayBuffer, 0, count);
  }

  // Spacing and affines.
  const pixdim = hdr.pixDims;
  const spacing = dims.map((_, i) => {
    const v = pixdim[i + 1];
    return Number.isFinite(v) ? v : 0;
  });
  let sform: Matrix4 | null = null;
  let qform: Matrix4 | null = null;
  if (hdr.sform_code > 0) {
    const at = version === 1 ? 280 : 400;
    const w = version === 1 ? 4 : 8;
    sform = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => (w === 4 ? view.getFloat32(at + (r * 4 + c) * 4, le) : view.getFloat64(at + (r * 4 + c) * 8, le))));
    sform.push([0, 0, 0, 1]);
  }
  if (hdr.qform_code > 0) {
    const q: Quatern = {
      b: hdr.quatern_b,
      c: hdr.quatern_c,
      d: hdr.quatern_d,
      qx: hdr.qoffset_x,
      qy: hdr.qoffset_y,
      qz: hdr.qoffset_z,
      qfac: pixdim[0] < 0 ? -1 : 1,
    };
    qform = quaternToAffine(q, pixdim[1], pixdim[2], pixdim[3]);
  }
  const affine: Matrix4 = sform ?? qform ?? [
    [spacing[0], 0, 0, 0],
    [0, spacing[1], 0, 0],
    [0, 0, spacing[2], 0],
    [0, 0, 0, 1],
  ];
  if (affine.some((row) => row.some((v) => !Number.isFinite(v)))) {
    throw formatError(FORMAT, name, `the ${sform ? 'sform' : 'qform'} contains non-finite numbers`);
  }

  const rawSlope = hdr.scl_slope;
  const scaled = Number.isFinite(rawSlope) && rawSlope !== 0;
  const sclSlope = scaled ? rawSlope : 1;
  const sclInter = scaled && Number.isFinite(hdr.scl_inter) ? hdr.scl_inter : 0;
  const units = hdr.xyzt_units;
  const header: NiftiHeader = {
    version,
    descrip: hdr.description ?? '',
    auxFile: hdr.aux_file ?? '',
    qformCode: hdr.qform_code,
    sformCode: hdr.sform_code,
    qform,
    sform,
    xyztUnits: units,
    spatialUnit: SPATIAL[units & 7] ?? 'unknown',
    temporalUnit: TEMPORAL[units & 56] ?? 'unknown',
    intentCode: hdr.intent_code,
    intentName: hdr.intent_name ?? '',
    calMin: hdr.cal_min,
    calMax: hdr.cal_max,
    sliceDuration: hdr.slice_duration,
    toffset: hdr.toffset,
    dimInfo: hdr.dim_info,
    sliceCode: hdr.slice_code,
    sliceStart: hdr.slice_start,
    sliceEnd: hdr.slice_end,
  };
  return new NiftiVolume({ dims, data, spacing, affine, sclSlope, sclInter, header });
}

/**
 * Reads a `.nii` / `.nii.gz` file from disk (Node only; `node:fs` is imported lazily so browser
 * bundles stay clean). Errors name the path. See {@link readNifti}.
 */
export async function readNiftiFile(path: string, options: ReadNiftiOptions = {}): Promise<NiftiVolume> {
  const bytes = await readFileBytes(path);
  return readNifti(bytes, { ...options, name: options.name ?? path });
}

/** Options of {@link writeNifti}. */
export interface WriteNiftiOptions {
  /** Gzip the output (`.nii.gz`). Default false. */
  gzip?: boolean;
  /** Gzip level 0–9 when `gzip` is set. Default 6. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

function isDiagonalDefault(a: Matrix4, spacing: number[]): boolean {
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const expected = r === 3 && c === 3 ? 1 : r === c && r < 3 ? spacing[r] : 0;
      if (Math.fround(a[r][c]) !== Math.fround(expected)) return false;
    }
  }
  return true;
}

function writeString(view: DataView, at: number, maxLen: number, s: string): void {
  const enc = new TextEncoder().encode(s);
  const n = Math.min(enc.length, maxLen - 1);
  for (let i = 0; i < n; i++) view.setUint8(at + i, enc[i]);
}

/**
 * Writes a volume as a little-endian NIfTI-1 `.nii` (or `.nii.gz` with `{ gzip: true }`).
 *
 * Reading the result back gives the same dims, datatype, voxels, spacing, scaling and affine (the
 * affine and spacing pass through float32, the NIfTI-1 field type, so they are exact for volumes
 * read from NIfTI-1 files). The affine is stored as the sform; a qform is stored too when the
 * affine is a scaled rotation (so tools that only read the qform agree). Header text fields longer
 * than NIfTI-1 allows are cut.
 *
 * @throws ValueError when a dimension exceeds NIfTI-1's 32767 limit.
 */
export function writeNifti(vol: NiftiVolume, options: WriteNiftiOptions = {}): Uint8Array {
  const { dims } = vol;
  if (dims.some((d) => d > 32767)) {
    throw new ValueError(`writeNifti: NIfTI-1 dimensions are at most 32767, got [${dims.join(', ')}]. Crop or split the volume.`);
  }
  if (vol.data.length !== product(dims)) {
    throw new ShapeError(`writeNifti: data has ${vol.data.length} voxels, dims [${dims.join(', ')}] need ${product(dims)}.`);
  }
  const code = CODE_OF[vol.datatype];
  const bpv = vol.data.BYTES_PER_ELEMENT;
  const voxOffset = 352;
  const out = new Uint8Array(voxOffset + vol.data.length * bpv);
  const v = new DataView(out.buffer);
  const h = vol.header;
  v.setInt32(0, 348, true);
  v.setUint8(39, h.dimInfo & 0xff);
  v.setInt16(40, dims.length, true);
  for (let i = 0; i < 7; i++) v.setInt16(42 + i * 2, i < dims.length ? dims[i] : 1, true);
  v.setInt16(68, h.intentCode, true);
  v.setInt16(70, code, true);
  v.setInt16(72, bpv * 8, true);
  v.setInt16(74, h.sliceStart, true);

  const sformCode = h.sformCode > 0 ? h.sformCode : h.qformCode > 0 ? h.qformCode : isDiagonalDefault(vol.affine, vol.spacing) ? 0 : 2;
  const quat = affineToQuatern(vol.affine);
  const qformCode = quat ? (h.qformCode > 0 ? h.qformCode : sformCode) : 0;
  v.setFloat32(76, quat ? quat.q.qfac : 1, true);
  for (let i = 0; i < 7; i++) v.setFloat32(80 + i * 4, i < vol.spacing.length ? vol.spacing[i] : 1, true);
  v.setFloat32(108, voxOffset, true);
  v.setFloat32(112, vol.sclSlope, true);
  v.setFloat32(116, vol.sclInter, true);
  v.setInt16(120, h.sliceEnd, true);
  v.setUint8(122, h.sliceCode & 0xff);
  v.setUint8(123, h.xyztUnits & 0xff);
  v.setFloat32(124, h.calMax, true);
  v.setFloat32(128, h.calMin, true);
  v.setFloat32(132, h.sliceDuration, true);
  v.setFloat32(136, h.toffset, true);
  writeString(v, 148, 80, h.descrip);
  writeString(v, 228, 24, h.auxFile);
  v.setInt16(252, qformCode, true);
  v.setInt16(254, sformCode, true);
  if (quat && qformCode > 0) {
    v.setFloat32(256, quat.q.b, true);
    v.setFloat32(260, quat.q.c, true);
    v.setFloat32(264, quat.q.d, true);
    v.setFloat32(268, quat.q.qx, true);
    v.setFloat32(272, quat.q.qy, true);
    v.setFloat32(276, quat.q.qz, true);
  }
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + (r * 4 + c) * 4, vol.affine[r][c], true);
  writeString(v, 328, 16, h.intentName);
  out.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  // Bytes 348..351: extension flag, all zero (no extensions).
  const body = new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  out.set(body, voxOffset);
  if (!hostLittleEndian) swapBytes(out.subarray(voxOffset), bpv);
  return options.gzip ? gzipSync(out, { level: options.level ?? 6 }) : out;
}
