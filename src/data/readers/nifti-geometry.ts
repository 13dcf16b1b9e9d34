// Voxel-to-world affine, spacing and intensity scaling of a NIfTI/Analyze header, following the
// rules nibabel 5 applies when it loads a file (internal, not re-exported), so a volume read here
// lands where nibabel puts it:
// - the header fixes nibabel's load-time check applies silently: spatial pixdims of 0 become 1
//   and negative ones their absolute value, a qfac other than ±1 becomes 1, an unknown
//   sform/qform code becomes 0;
// - the affine is the sform when sform_code ≠ 0, else the qform when qform_code ≠ 0 (nibabel's
//   quaternion maths, including its tolerance for |b,c,d| slightly above 1), else the centred,
//   x-flipped "base" affine from the shape and pixdims; Analyze files use SPM's origin field.
import type { RawHeader } from './nifti-header.js';
import type { Matrix4 } from './types.js';

/** Builds the reader's typed error from a problem and a hint. */
export type Fail = (problem: string, hint?: string) => Error;

/** Geometry of a header after nibabel's fixes. */
export interface Geometry {
  affine: Matrix4;
  sform: Matrix4 | null;
  qform: Matrix4 | null;
  sformCode: number;
  qformCode: number;
  /** pixdim[1..] after the fixes (one per dimension of the image). */
  pixdim: number[];
}

const FLOAT32_EPS = 2 ** -23;
const FLOAT64_EPS = 2 ** -52;
const VALID_XFORM_CODES = new Set([0, 1, 2, 3, 4, 5]);

/** pixdim after nibabel's `_chk_pixdims` (spatial entries) and `_chk_qfac` (NIfTI only). */
function fixedPixdim(h: RawHeader): number[] {
  const p = h.pixdim.slice();
  for (let i = 1; i <= 3; i++) {
    if (p[i] === 0) p[i] = 1;
    else if (p[i] < 0) p[i] = -p[i];
  }
  if (h.kind !== 'analyze' && p[0] !== 1 && p[0] !== -1) p[0] = 1;
  return p;
}

/** nibabel's `shape_zoom_affine(shape, zooms, x_flip=True)`: centred, x flipped. */
export function baseAffine(shape: number[], zooms: number[]): Matrix4 {
  const s = [1, 1, 1];
  const z = [1, 1, 1];
  for (let i = 0; i < Math.min(3, shape.length); i++) {
    s[i] = shape[i];
    z[i] = zooms[i];
  }
  z[0] = -z[0];
  return [
    [z[0], 0, 0, -((s[0] - 1) / 2) * z[0]],
    [0, z[1], 0, -((s[1] - 1) / 2) * z[1]],
    [0, 0, z[2], -((s[2] - 1) / 2) * z[2]],
    [0, 0, 0, 1],
  ];
}

/** nibabel's `Nifti1Header.get_qform`: quaternion → rotation, scaled by pixdim and qfac. */
function qformAffine(h: RawHeader, p: number[], fail: Fail): Matrix4 {
  const [b, c, d] = h.quatern;
  const w2 = 1 - (b * b + c * c + d * d);
  const threshold = -3 * (h.kind === 'nifti2' ? FLOAT64_EPS : FLOAT32_EPS);
  let w: number;
  if (w2 < 0) {
    if (w2 < threshold) {
      throw fail(
        `field quatern_b/c/d = (${b}, ${c}, ${d}) is not part of a unit quaternion (b²+c²+d² = ${1 - w2} > 1), so the qform (qform_code ${h.qformCode}) is undefined`,
        'Fix the header (e.g. set qform_code to 0 or rewrite the qform with nibabel).',
      );
    }
    w = 0;
  } else {
    w = Math.sqrt(w2);
  }
  const nq = w * w + b * b + c * c + d * d;
  let r: number[][];
  if (nq < FLOAT64_EPS) {
    r = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
  } else {
    const s = 2 / nq;
    const X = b * s;
    const Y = c * s;
    const Z = d * s;
    const [wX, wY, wZ] = [w * X, w * Y, w * Z];
    const [xX, xY, xZ] = [b * X, b * Y, b * Z];
    const [yY, yZ, zZ] = [c * Y, c * Z, d * Z];
    r = [
      [1 - (yY + zZ), xY - wZ, xZ + wY],
      [xY + wZ, 1 - (xX + zZ), yZ - wX],
      [xZ - wY, yZ + wX, 1 - (xX + yY)],
    ];
  }
  const vox = [p[1], p[2], p[3] * p[0]];
  return [
    [r[0][0] * vox[0], r[0][1] * vox[1], r[0][2] * vox[2], h.qoffset[0]],
    [r[1][0] * vox[0], r[1][1] * vox[1], r[1][2] * vox[2], h.qoffset[1]],
    [r[2][0] * vox[0], r[2][1] * vox[1], r[2][2] * vox[2], h.qoffset[2]],
    [0, 0, 0, 1],
  ];
}

/** SPM99/SPM2 Analyze affine (nibabel's `get_origin_affine`): the origin field if sensible, else the centre. */
function spmOriginAffine(h: RawHeader, p: number[]): Matrix4 {
  const zooms = [-p[1], p[2], p[3]];
  const dims = [h.dim[1], h.dim[2], h.dim[3]];
  const o = h.origin;
  const useOrigin = o.some((v) => v !== 0) && o.every((v, i) => v > -dims[i] && v < dims[i] * 2);
  const origin = useOrigin ? o.map((v) => v - 1) : dims.map((n) => (n - 1) / 2);
  return [
    [zooms[0], 0, 0, -origin[0] * zooms[0]],
    [0, zooms[1], 0, -origin[1] * zooms[1]],
    [0, 0, zooms[2], -origin[2] * zooms[2]],
    [0, 0, 0, 1],
  ];
}

/** The affine and related fields, as nibabel's `img.affine` / `get_sform` / `get_qform` give them. */
export function headerGeometry(h: RawHeader, ndim: number, fail: Fail): Geometry {
  const p = fixedPixdim(h);
  const pixdim = p.slice(1, 1 + ndim);
  if (h.kind === 'analyze') {
    const affine = spmOriginAffine(h, p);
    if (affine.some((row) => row.some((x) => !Number.isFinite(x)))) {
      throw fail(`the pixdim and originator fields give a non-finite affine (pixdim[1..3] = ${p.slice(1, 4).join(', ')})`, 'The Analyze header is corrupt; fix its voxel sizes.');
    }
    return { affine, sform: null, qform: null, sformCode: 0, qformCode: 0, pixdim };
  }
  const sformCode = VALID_XFORM_CODES.has(h.sformCode) ? h.sformCode : 0;
  const qformCode = VALID_XFORM_CODES.has(h.qformCode) ? h.qformCode : 0;
  let sform: Matrix4 | null = null;
  if (sformCode !== 0) {
    const s = h.srow;
    sform = [s.slice(0, 4), s.slice(4, 8), s.slice(8, 12), [0, 0, 0, 1]];
  }
  const qform = qformCode !== 0 ? qformAffine(h, p, fail) : null;
  const affine = sform ?? qform ?? baseAffine(h.dim.slice(1, 1 + ndim), pixdim);
  const which = sform ? `the sform (srow_x/y/z, sform_code ${sformCode})` : qform ? `the qform (quatern_b/c/d, qoffset_x/y/z, qform_code ${qformCode})` : 'the pixdims';
  if (affine.some((row) => row.some((x) => !Number.isFinite(x)))) {
    throw fail(`${which} gives a non-finite affine [${affine.slice(0, 3).map((r) => r.join(', ')).join('; ')}]`, 'The header is corrupt; fix its geometry fields.');
  }
  return { affine, sform, qform, sformCode, qformCode, pixdim };
}

/**
 * Intensity scaling `value = slope · stored + inter`, as nibabel reads it: NIfTI ignores a slope
 * of 0 or non-finite (no scaling) and refuses a valid slope with a non-finite intercept; Analyze
 * uses SPM2's rules (funused1/2, else the glmax/glmin and cal_max/cal_min ranges).
 */
export function headerScaling(h: RawHeader, fail: Fail): { slope: number; inter: number } {
  const slope = h.sclSlope;
  const inter = h.sclInter;
  if (h.kind === 'analyze') {
    if (Number.isFinite(slope) && slope !== 0) return { slope, inter: Number.isFinite(inter) ? inter : 0 };
    const unscaled = h.glMax - h.glMin;
    const scaled = h.calMax - h.calMin;
    if (unscaled !== 0 && scaled !== 0 && Number.isFinite(scaled)) {
      const s = scaled / unscaled;
      return { slope: s, inter: h.calMin - s * h.glMin };
    }
    return { slope: 1, inter: 0 };
  }
  if (slope === 0 || !Number.isFinite(slope)) return { slope: 1, inter: 0 };
  if (!Number.isFinite(inter)) {
    throw fail(`field scl_inter is ${inter} while scl_slope is ${slope}, so intensities are undefined (nibabel refuses this too)`, 'Fix the header: set scl_inter to a finite number (usually 0).');
  }
  return { slope, inter };
}
