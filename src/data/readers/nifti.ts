import { importNode } from '../../core/runtime.js';
import { gzipSync } from 'fflate';
import { ShapeError, ValueError } from '../../core/errors.js';
import { affineToQuatern } from './affine.js';
import { checkAlloc, resolveMaxBytes } from './byte-budget.js';
import { inflateBounded } from './inflate.js';
import { formatError, isGzip, product, readFileBytes, toBytes, type BytesLike } from './internal.js';
import { baseAffine, headerGeometry, headerScaling, type Fail } from './nifti-geometry.js';
import { parseHeader, sniffHeader, type RawHeader } from './nifti-header.js';
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

/** Options of {@link readNifti}, {@link readNiftiPair} and {@link readNiftiFile}. */
export interface ReadNiftiOptions extends ReadOptions {}

/** Datatype codes Analyze 7.5 defines (NIfTI added int8, uint16, uint32 and the 64-bit types). */
const ANALYZE_TYPES = new Set([2, 4, 8, 16, 64]);

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

/** A parsed, checked header and where its voxels are. */
interface Plan {
  h: RawHeader;
  dims: number[];
  ndim: number;
  info: TypeInfo;
  voxOffset: number;
  nbytes: number;
}

function describeKind(h: RawHeader): string {
  return h.kind === 'analyze' ? 'Analyze 7.5' : h.kind === 'nifti1' ? 'NIfTI-1' : 'NIfTI-2';
}

/** Parses and checks a header: dimensions, datatype, voxel offset and size (against maxBytes). */
function plan(h: RawHeader, name: string | undefined, maxBytes: number): Plan {
  const what = describeKind(h);
  const ndim = h.dim[0];
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw formatError(FORMAT, name, `field dim[0] (number of dimensions) of the ${what} header is ${ndim}, expected 1 to 7`, 'The header is corrupt (or byte-swapped).');
  }
  const dims = h.dim.slice(1, 1 + ndim);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw formatError(FORMAT, name, `field dim[1..${ndim}] of the ${what} header is [${dims.join(', ')}], every size must be a positive integer`, 'The header is corrupt.');
  }
  while (dims.length < 3) dims.push(1);
  const info = TYPES[h.datatype];
  if (!info || (h.kind === 'analyze' && !ANALYZE_TYPES.has(h.datatype))) {
    const known = UNSUPPORTED_TYPES[h.datatype] ?? (info ? info.name : `unknown code ${h.datatype}`);
    const hint = h.kind === 'analyze' && info ? `Analyze 7.5 has no ${info.name} type (nibabel refuses it too); the header is corrupt.` : 'Convert the image to a scalar type first.';
    throw formatError(FORMAT, name, `field datatype is ${known}, which is not read (scalar uint8/int8/int16/uint16/int32/uint32/float32/float64 are)`, hint);
  }
  // nibabel takes int(vox_offset); a single file needs its 348/540-byte header plus the 4-byte
  // extension flag before the voxels (nifti1.h), so 348–351 (540–543) would read the flag as data.
  const voxOffset = Math.floor(h.voxOffset);
  const minOffset = h.single ? h.size + 4 : 0;
  if (!Number.isSafeInteger(voxOffset) || voxOffset < minOffset) {
    throw formatError(
      FORMAT,
      name,
      `field vox_offset is ${h.voxOffset}, but ${h.single ? `a single-file ${what} image stores its voxels at byte ${minOffset} or later` : 'it must be a non-negative byte offset into the .img file'}`,
      h.single ? `The header is corrupt (nibabel refuses it too); if the voxels really start at ${minOffset}, set vox_offset to ${minOffset}.` : 'The header is corrupt.',
    );
  }
  const nbytes = product(dims) * info.bytes;
  checkAlloc(FORMAT, name, nbytes, maxBytes, `the voxel data (dim ${dims.join('×')} of ${info.name})`);
  return { h, dims, ndim, info, voxOffset, nbytes };
}

/** Sniffs and parses a single-file header; pair headers and Analyze get errors saying what to call. */
function planSingle(bytes: Uint8Array, name: string | undefined, maxBytes: number): Plan {
  if (bytes.length < 348) {
    throw formatError(FORMAT, name, `only ${bytes.length} bytes, shorter than the 348-byte NIfTI-1 header`, 'The file is truncated or not NIfTI.');
  }
  const kind = sniffHeader(bytes);
  if (kind === null) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    throw formatError(
      FORMAT,
      name,
      `no NIfTI magic ("n+1" at byte 344 or "n+2" at byte 4) and field sizeof_hdr is ${v.getInt32(0, true)}, not 348 or 540`,
      'The file is not NIfTI or Analyze (or is corrupt).',
    );
  }
  if (!kind.single) {
    const which = kind.kind === 'analyze' ? 'an Analyze 7.5 header (sizeof_hdr 348, no NIfTI magic)' : `the header of a NIfTI .hdr/.img pair (magic "${kind.kind === 'nifti1' ? 'ni1' : 'ni2'}")`;
    throw formatError(FORMAT, name, `it is ${which}; its voxels are in a separate .img file`, "Read both with readNiftiPair(hdrBytes, imgBytes) or readNiftiFile('x.hdr').");
  }
  return plan(parseHeader(bytes, kind.kind, true, kind.littleEndian), name, maxBytes);
}

/** Turns a checked plan and the bytes holding its voxels into a volume. */
function buildVolume(p: Plan, bytes: Uint8Array, owned: boolean, name: string | undefined): NiftiVolume {
  const { h, dims, info, voxOffset, nbytes } = p;
  if (voxOffset + nbytes > bytes.length) {
    throw formatError(
      FORMAT,
      name,
      `the header declares dim ${dims.join('×')} of ${info.name} (${nbytes} bytes from vox_offset ${voxOffset}) but the ${h.single ? 'file' : '.img file'} has only ${Math.max(0, bytes.length - voxOffset)} bytes there`,
      'The file is truncated (or its header is wrong).',
    );
  }
  const fail: Fail = (problem, hint) => formatError(FORMAT, name, problem, hint);
  const geometry = headerGeometry(h, p.ndim, fail);
  const { slope, inter } = headerScaling(h, fail);
  // Copy unless we own an aligned buffer already (decompressed data); swap big-endian data.
  const start = bytes.byteOffset + voxOffset;
  const needSwap = h.littleEndian !== hostLittleEndian;
  const count = nbytes / info.bytes;
  let data: VolumeArray;
  if (owned && !needSwap && start % info.bytes === 0) {
    data = info.make(bytes.buffer as ArrayBuffer, start, count);
  } else {
    const copy = bytes.slice(voxOffset, voxOffset + nbytes);
    if (needSwap) swapBytes(copy, info.bytes);
    data = info.make(copy.buffer as ArrayBuffer, 0, count);
  }
  const spacing = dims.map((_, i) => {
    const v = geometry.pixdim[i];
    return v !== undefined && Number.isFinite(v) ? v : i < 3 ? 1 : 0;
  });
  const units = h.xyztUnits;
  const header: NiftiHeader = {
    version: h.kind === 'nifti2' ? 2 : 1,
    descrip: h.descrip,
    auxFile: h.auxFile,
    qformCode: geometry.qformCode,
    sformCode: geometry.sformCode,
    qform: geometry.qform,
    sform: geometry.sform,
    xyztUnits: units,
    spatialUnit: SPATIAL[units & 7] ?? 'unknown',
    temporalUnit: TEMPORAL[units & 56] ?? 'unknown',
    intentCode: h.intentCode,
    intentName: h.intentName,
    calMin: h.calMin,
    calMax: h.calMax,
    sliceDuration: h.sliceDuration,
    toffset: h.toffset,
    dimInfo: h.dimInfo,
    sliceCode: h.sliceCode,
    sliceStart: h.sliceStart,
    sliceEnd: h.sliceEnd,
    storage: h.kind === 'analyze' ? 'analyze' : h.single ? 'single' : 'pair',
  };
  return new NiftiVolume({ dims, data, spacing, affine: geometry.affine, sclSlope: slope, sclInter: inter, header });
}

/**
 * Reads a single-file NIfTI-1 or NIfTI-2 image (`.nii`, or gzipped `.nii.gz`: detected by its
 * magic bytes) into a {@link NiftiVolume}, with nibabel's geometry and scaling rules.
 *
 * - Geometry (as nibabel's `img.affine`): the sform when `sform_code ≠ 0`, else the qform when
 *   `qform_code ≠ 0`, else nibabel's centred, x-flipped affine from the pixdims (so data without
 *   orientation lands where nibabel puts it, LAS-like). nibabel's load-time header fixes apply:
 *   zero/negative spatial pixdims → 1/absolute value, qfac ∉ {±1} → 1, unknown xform codes → 0.
 * - Scaling: `scl_slope` of 0 or non-finite means none; a valid slope with a non-finite
 *   `scl_inter` is refused (as nibabel does).
 * - Checks: `vox_offset` must lie past the header and its 4-byte extension flag (≥ 352 for
 *   NIfTI-1, ≥ 544 for NIfTI-2); every size is checked against the bytes present and against
 *   `maxBytes` before allocating; gzip data is verified against its CRC-32 and length, and only
 *   as many decompressed bytes as the header needs are kept (a long tail is refused as a bomb).
 *
 * `.hdr`/`.img` pairs and Analyze 7.5 are read by {@link readNiftiPair} and {@link readNiftiFile}.
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
  const maxBytes = resolveMaxBytes(options.maxBytes, FORMAT, name);
  let bytes = toBytes(input);
  let owned = false;
  if (isGzip(bytes)) {
    // Keep only header + voxels: the header, once decompressed, says how much that is.
    bytes = inflateBounded(bytes, 'gzip', {
      format: FORMAT,
      name,
      maxBytes,
      keep: {
        headBytes: 544,
        limit: (head) => {
          const p = planSingle(head, name, maxBytes);
          return p.voxOffset + p.nbytes;
        },
      },
    });
    owned = true;
  }
  return buildVolume(planSingle(bytes, name, maxBytes), bytes, owned, name);
}

/**
 * Reads a two-file image: a NIfTI-1/NIfTI-2 `.hdr`/`.img` pair (magic `ni1`/`ni2`) or an Analyze 7.5
 * `.hdr`/`.img` pair, either file optionally gzipped, as nibabel does.
 *
 * Analyze files follow nibabel's `Spm2AnalyzeImage` (what `nibabel.load` returns for them): the
 * affine is x-flipped with its origin from SPM's `originator` field when that is plausible, else
 * the image centre; the scale factor is `funused1` (with `funused2` as intercept), else derived
 * from the `glmax/glmin` and `cal_max/cal_min` ranges. An SPM `.mat` sidecar is not read.
 *
 * @param header - the `.hdr` file's bytes.
 * @param image - the `.img` file's bytes; voxels start at `vox_offset` (usually 0).
 */
export function readNiftiPair(header: BytesLike, image: BytesLike, options: ReadNiftiOptions = {}): NiftiVolume {
  const { name } = options;
  const maxBytes = resolveMaxBytes(options.maxBytes, FORMAT, name);
  let hdr = toBytes(header);
  if (isGzip(hdr)) hdr = inflateBounded(hdr, 'gzip', { format: FORMAT, name, maxBytes, keep: { headBytes: 540, limit: (h) => h.length } });
  if (hdr.length < 348) {
    throw formatError(FORMAT, name, `the header has only ${hdr.length} bytes, shorter than the 348-byte NIfTI-1/Analyze header`, 'The .hdr file is truncated or not a header.');
  }
  const kind = sniffHeader(hdr);
  if (kind === null) {
    throw formatError(FORMAT, name, `the .hdr file has field sizeof_hdr ${new DataView(hdr.buffer, hdr.byteOffset).getInt32(0, true)}, not 348 (NIfTI-1/Analyze) or 540 (NIfTI-2)`, 'It is not a NIfTI or Analyze header.');
  }
  if (kind.single) {
    throw formatError(FORMAT, name, `the header has the single-file magic "${kind.kind === 'nifti1' ? 'n+1' : 'n+2'}", so its voxels follow it in the same file`, 'Read it with readNifti instead.');
  }
  const p = plan(parseHeader(hdr, kind.kind, false, kind.littleEndian), name, maxBytes);
  let img = toBytes(image);
  let owned = false;
  if (isGzip(img)) {
    img = inflateBounded(img, 'gzip', { format: FORMAT, name, maxBytes, keep: { headBytes: 0, limit: () => p.voxOffset + p.nbytes } });
    owned = true;
  }
  return buildVolume(p, img, owned, name);
}

const PAIR_EXT = /\.(hdr|img)(\.gz)?$/i;

/** The other file of a pair: same stem, the other extension, same case, with or without .gz. */
function partnerCandidates(path: string): { hdr: boolean; candidates: string[] } {
  const m = PAIR_EXT.exec(path);
  if (!m) return { hdr: false, candidates: [] };
  const stem = path.slice(0, m.index);
  const isHdr = m[1].toLowerCase() === 'hdr';
  const upper = m[1] === m[1].toUpperCase();
  let other = isHdr ? 'img' : 'hdr';
  if (upper) other = other.toUpperCase();
  const gz = m[2] ?? '';
  const otherGz = gz ? '' : upper ? '.GZ' : '.gz';
  return { hdr: isHdr, candidates: [`${stem}.${other}${gz}`, `${stem}.${other}${otherGz}`] };
}

/**
 * Reads a NIfTI or Analyze image from disk (Node only; `node:fs` is imported lazily so browser
 * bundles stay clean). `.nii`/`.nii.gz` go to {@link readNifti}; a `.hdr` or `.img` path (optionally
 * `.gz`) is read together with its partner file through {@link readNiftiPair}. Errors name the path.
 */
export async function readNiftiFile(path: string, options: ReadNiftiOptions = {}): Promise<NiftiVolume> {
  const name = options.name ?? path;
  const pair = partnerCandidates(path);
  if (pair.candidates.length === 0) return readNifti(await readFileBytes(path), { ...options, name });
  const given = await readFileBytes(path);
  if (pair.hdr) {
    // A .hdr may still be a single-file NIfTI (magic n+1): read it as one.
    const probe = isGzip(given) ? null : sniffHeader(given);
    if (probe?.single) return readNifti(given, { ...options, name });
  }
  const fs = await importNode<typeof import('node:fs/promises')>('fs/promises'); // the module readFileBytes already loaded
  let other: string | undefined;
  for (const c of pair.candidates) {
    if (await fs.access(c).then(() => true, () => false)) {
      other = c;
      break;
    }
  }
  if (other === undefined) {
    throw formatError(FORMAT, name, `the ${pair.hdr ? 'image' : 'header'} file of the pair is missing (looked for ${pair.candidates.map((c) => `'${c}'`).join(' and ')})`, 'Keep the .hdr and .img files together under the same name.');
  }
  const otherBytes = await readFileBytes(other);
  return pair.hdr
    ? readNiftiPair(given, otherBytes, { ...options, name: `${name} + ${other}` })
    : readNiftiPair(otherBytes, given, { ...options, name: `${other} + ${name}` });
}

/** Options of {@link writeNifti}. */
export interface WriteNiftiOptions {
  /** Gzip the output (`.nii.gz`). Default false. */
  gzip?: boolean;
  /** Gzip level 0–9 when `gzip` is set. Default 6. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/** True when a reader would rebuild `a` from the pixdims alone (nibabel's base affine), so no xform code is needed. */
function isBaseAffine(a: Matrix4, dims: number[], spacing: number[]): boolean {
  const zooms = spacing.slice(0, 3).map((s) => Math.abs(Math.fround(s)) || 1);
  const b = baseAffine(dims, zooms);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) if (Math.fround(a[r][c]) !== Math.fround(b[r][c])) return false;
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

  const sformCode = h.sformCode > 0 ? h.sformCode : h.qformCode > 0 ? h.qformCode : isBaseAffine(vol.affine, dims, vol.spacing) ? 0 : 2;
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
