import { ShapeError, ValueError } from '../../core/errors.js';
import type { Matrix4 } from './types.js';

/**
 * Voxel types medvae reads and writes. They cover every scalar NIfTI datatype JavaScript has a
 * typed array for; complex, RGB, 64-bit integer and float128 files are refused with a message.
 */
export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** The typed array that stores each {@link NiftiDatatype}. */
export type VolumeArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** NIfTI spatial unit of `spacing` and the affine (from `xyzt_units`). */
export type SpatialUnit = 'unknown' | 'meter' | 'mm' | 'micron';

/** NIfTI temporal unit of the 4th spacing entry (from `xyzt_units`). */
export type TemporalUnit = 'unknown' | 'sec' | 'msec' | 'usec' | 'hz' | 'ppm' | 'rads';

/**
 * Header fields of a NIfTI file that carry meaning beyond the grid itself. Volumes built in code
 * get neutral defaults ({@link defaultNiftiHeader}); `writeNifti` writes these back.
 */
export interface NiftiHeader {
  /** 1 or 2: which NIfTI version the file was (volumes built in code say 1). */
  version: 1 | 2;
  /** Free text, up to 79 bytes in NIfTI-1 (`descrip`). */
  descrip: string;
  /** Auxiliary file name (`aux_file`), up to 23 bytes. */
  auxFile: string;
  /** How to read the qform: 0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI-152, 5 other template. */
  qformCode: number;
  /** How to read the sform, same codes as `qformCode`. */
  sformCode: number;
  /** The qform as a 4×4 affine when `qformCode > 0`, else null. */
  qform: Matrix4 | null;
  /** The sform as a 4×4 affine when `sformCode > 0`, else null. */
  sform: Matrix4 | null;
  /** Raw `xyzt_units` byte (spatial unit in bits 0–2, temporal unit in bits 3–5). */
  xyztUnits: number;
  /** Decoded spatial unit. */
  spatialUnit: SpatialUnit;
  /** Decoded temporal unit. */
  temporalUnit: TemporalUnit;
  /** NIFTI_INTENT_* code (0 none, 1002 label map, ...). */
  intentCode: number;
  /** Intent name, up to 15 bytes. */
  intentName: string;
  /** Display range hints (`cal_min`, `cal_max`); 0/0 means unset. */
  calMin: number;
  /** See `calMin`. */
  calMax: number;
  /** `slice_duration` in the temporal unit. */
  sliceDuration: number;
  /** Time offset of the first frame (`toffset`). */
  toffset: number;
  /** `dim_info` byte (frequency/phase/slice axes). */
  dimInfo: number;
  /** Slice timing pattern code. */
  sliceCode: number;
  /** First slice index of the timing pattern. */
  sliceStart: number;
  /** Last slice index of the timing pattern. */
  sliceEnd: number;
  /**
   * How the file stored the image, for volumes read from disk: `'single'` (`.nii`), `'pair'`
   * (NIfTI `.hdr`/`.img`) or `'analyze'` (Analyze 7.5 `.hdr`/`.img`). Absent for volumes built in code.
   */
  storage?: 'single' | 'pair' | 'analyze';
}

/** The header a volume built in code starts with: nothing known, millimetres and seconds. */
export function defaultNiftiHeader(): NiftiHeader {
  return {
    version: 1,
    descrip: '',
    auxFile: '',
    qformCode: 0,
    sformCode: 0,
    qform: null,
    sform: null,
    xyztUnits: 2 | 8,
    spatialUnit: 'mm',
    temporalUnit: 'sec',
    intentCode: 0,
    intentName: '',
    calMin: 0,
    calMax: 0,
    sliceDuration: 0,
    toffset: 0,
    dimInfo: 0,
    sliceCode: 0,
    sliceStart: 0,
    sliceEnd: 0,
  };
}

/** What {@link NiftiVolume}'s constructor takes. Only `dims` and `data` are required. */
export interface NiftiVolumeInit {
  /** Grid size, x fastest: `[x, y, z]` or `[x, y, z, t]` (1-D/2-D grids are padded with 1s to 3). */
  dims: number[];
  /** Voxels in NIfTI order: index `x + X·(y + Y·(z + Z·t))`. Its type sets `datatype`. */
  data: VolumeArray;
  /** Voxel size per dimension (pixdim[1..]); default 1 for each. */
  spacing?: number[];
  /** Voxel index → world (RAS+, `spatialUnit`) affine; default `diag(spacing[0..2], 1)`. */
  affine?: Matrix4;
  /** Intensity scale: real value = `sclSlope · stored + sclInter`. Default 1. */
  sclSlope?: number;
  /** Intensity offset, see `sclSlope`. Default 0. */
  sclInter?: number;
  /** Header fields; missing ones take {@link defaultNiftiHeader}'s values. */
  header?: Partial<NiftiHeader>;
}

const ARRAY_TYPES: [NiftiDatatype, Function][] = [
  ['uint8', Uint8Array],
  ['int8', Int8Array],
  ['int16', Int16Array],
  ['uint16', Uint16Array],
  ['int32', Int32Array],
  ['uint32', Uint32Array],
  ['float32', Float32Array],
  ['float64', Float64Array],
];

/**
 * The {@link NiftiDatatype} of a typed array, or null for unsupported arrays.
 *
 * @internal
 */
export function datatypeOf(data: ArrayBufferView): NiftiDatatype | null {
  for (const [name, ctor] of ARRAY_TYPES) if (data.constructor === ctor) return name;
  return null;
}

/**
 * A 3-D or 4-D image on a regular grid with its position in the world: what {@link readNifti}
 * and {@link readDicomSeries} return and {@link writeNifti} writes.
 *
 * `data` keeps the stored voxel type (an atlas stays `Int16Array`, a T1 stays `Uint8Array`), so
 * labels are exact and memory is small; {@link NiftiVolume.toFloat32} gives real-valued
 * intensities with the header's scaling applied. The object is treated as immutable by medvae:
 * operations such as `reorientVolume` return new volumes.
 */
export class NiftiVolume {
  /** Grid size, x fastest (`[x, y, z]` or `[x, y, z, t, ...]`), at least 3 entries. */
  readonly dims: number[];
  /** Voxels, x fastest: voxel `(x, y, z, t)` is at `x + X·(y + Y·(z + Z·t))`. */
  readonly data: VolumeArray;
  /** The stored voxel type (the name of `data`'s array type). */
  readonly datatype: NiftiDatatype;
  /** Voxel size per dimension (NIfTI pixdim[1..]), same length as `dims`. */
  readonly spacing: number[];
  /**
   * Voxel index (i, j, k, 1) → world position (RAS+: x to the subject's Right, y Anterior,
   * z Superior; in `header.spatialUnit`, normally mm). From the sform when `sformCode > 0`, else
   * the qform when `qformCode > 0`, else `diag(spacing)`: the order nibabel and ITK-SNAP use.
   */
  readonly affine: Matrix4;
  /** Real value = `sclSlope · stored + sclInter` (1 when the file said 0 or NaN: no scaling). */
  readonly sclSlope: number;
  /** See `sclSlope` (0 when the file had no valid scaling). */
  readonly sclInter: number;
  /** The remaining header fields. */
  readonly header: NiftiHeader;

  constructor(init: NiftiVolumeInit) {
    const dims = init.dims.slice();
    if (dims.length === 0 || dims.length > 7 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`NiftiVolume dims must be 1 to 7 positive integers, got [${init.dims.join(', ')}].`);
    }
    while (dims.length < 3) dims.push(1);
    const n = dims.reduce((a, b) => a * b, 1);
    const datatype = datatypeOf(init.data);
    if (datatype === null) {
      throw new ValueError(
        `NiftiVolume data must be a Uint8/Int8/Int16/Uint16/Int32/Uint32/Float32/Float64Array, got ${init.data?.constructor?.name ?? typeof init.data}.`,
      );
    }
    if (init.data.length !== n) {
      throw new ShapeError(`NiftiVolume data has ${init.data.length} voxels but dims [${dims.join(', ')}] need ${n}.`);
    }
    const spacing = (init.spacing ?? []).slice(0, dims.length);
    while (spacing.length < dims.length) spacing.push(1);
    if (spacing.some((s) => !Number.isFinite(s))) {
      throw new ValueError(`NiftiVolume spacing must be finite numbers, got [${spacing.join(', ')}].`);
    }
    let affine = init.affine;
    if (affine === undefined) {
      affine = [
        [spacing[0], 0, 0, 0],
        [0, spacing[1], 0, 0],
        [0, 0, spacing[2], 0],
        [0, 0, 0, 1],
      ];
    } else if (affine.length !== 4 || affine.some((r) => r.length !== 4 || r.some((v) => !Number.isFinite(v)))) {
      throw new ShapeError('NiftiVolume affine must be a 4×4 array of finite numbers (rows).');
    }
    this.dims = dims;
    this.data = init.data;
    this.datatype = datatype;
    this.spacing = spacing;
    this.affine = affine.map((r) => r.slice());
    this.sclSlope = init.sclSlope ?? 1;
    this.sclInter = init.sclInter ?? 0;
    this.header = { ...defaultNiftiHeader(), ...init.header };
  }

  /** Number of voxels (product of `dims`). */
  get size(): number {
    return this.data.length;
  }

  /**
   * Real-valued intensities: a new Float32Array with `sclSlope · v + sclInter` applied (a plain
   * copy when there is no scaling). Use it before feeding a network; use `data` for label maps.
   */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.data.length);
    const src = this.data;
    const s = this.sclSlope;
    const b = this.sclInter;
    if (s === 1 && b === 0) {
      out.set(src);
    } else {
      for (let i = 0; i < src.length; i++) out[i] = s * src[i] + b;
    }
    return out;
  }
}
