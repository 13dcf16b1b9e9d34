import { ValueError } from '../../core/errors.js';
import { affineToQuatern, matmul4 } from './affine.js';
import type { ImageData2D, Matrix4 } from './types.js';
import { NiftiVolume, type VolumeArray } from './volume.js';

/**
 * Three letters naming, for voxel axes i, j, k, the world direction each index increases
 * towards: R/L (x), A/P (y), S/I (z). NIfTI world space is RAS+, DICOM's patient space is LPS+.
 * Examples: `'RAS'` (nibabel's canonical), `'LPS'` (ITK/DICOM), `'LAS'` (radiological FSL).
 */
export type OrientationCode = string;

const AXIS_LETTERS: [string, string][] = [
  ['R', 'L'],
  ['A', 'P'],
  ['S', 'I'],
];

/**
 * Singular value decomposition of a 3×3 matrix by one-sided (Hestenes) Jacobi rotations: returns
 * `u` (unit columns, zero where the singular value is 0), singular values `s` and `v` (columns),
 * with `a = u · diag(s) · vᵀ`. One-sided Jacobi keeps small singular values accurate, which the
 * rank test below relies on.
 */
function svd3(a: number[][]): { u: number[][]; s: number[]; v: number[][] } {
  const w = a.map((row) => row.slice());
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < 2; p++) {
      for (let q = p + 1; q < 3; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < 3; i++) {
          alpha += w[i][p] * w[i][p];
          beta += w[i][q] * w[i][q];
          gamma += w[i][p] * w[i][q];
        }
        if (gamma === 0 || Math.abs(gamma) <= Number.EPSILON * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = c * t;
        for (let i = 0; i < 3; i++) {
          const wp = w[i][p];
          const wq = w[i][q];
          w[i][p] = c * wp - sn * wq;
          w[i][q] = sn * wp + c * wq;
          const vp = v[i][p];
          const vq = v[i][q];
          v[i][p] = c * vp - sn * vq;
          v[i][q] = sn * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const s = [0, 1, 2].map((k) => Math.hypot(w[0][k], w[1][k], w[2][k]));
  const u = [0, 1, 2].map((i) => [0, 1, 2].map((k) => (s[k] > 0 ? w[i][k] / s[k] : 0)));
  return { u, s, v };
}

/**
 * The orientation code of an affine: for each voxel axis, the world axis it runs closest to and
 * its sign, exactly as nibabel's `aff2axcodes` (`io_orientation`) computes it: the 3×3 part's
 * columns are normalised, replaced by the nearest shear-free matrix (polar decomposition through
 * an SVD, dropping singular values below `max · 3 · ε`), then voxel axes are matched in order
 * i, j, k to the largest remaining world component, each world axis used once. A voxel axis that
 * maps to nothing (a rank-deficient affine, where nibabel gives `None`) gets the letter `'?'`.
 *
 * @example `orientationCodes(readNifti(bytes).affine) // 'RAS'`
 */
export function orientationCodes(affine: Matrix4): OrientationCode {
  const rs = [0, 1, 2].map((i) => [affine[i][0], affine[i][1], affine[i][2]]);
  for (let j = 0; j < 3; j++) {
    const n = Math.hypot(rs[0][j], rs[1][j], rs[2][j]);
    if (n !== 0) for (let i = 0; i < 3; i++) rs[i][j] /= n;
  }
  const { u, s, v } = svd3(rs);
  const tol = Math.max(...s) * 3 * Number.EPSILON;
  // r = Σ over kept singular values of u_k v_kᵀ: the closest orthogonal (or partial) matrix.
  const r = [0, 1, 2].map((i) => [0, 1, 2].map((j) => [0, 1, 2].reduce((acc, k) => (s[k] > tol ? acc + u[i][k] * v[j][k] : acc), 0)));
  const letters = ['?', '?', '?'];
  for (let j = 0; j < 3; j++) {
    const col = [r[0][j], r[1][j], r[2][j]];
    if (col.every((x) => Math.abs(x) <= 1e-8)) continue; // numpy.allclose(col, 0)
    let best = 0;
    for (let i = 1; i < 3; i++) if (Math.abs(col[i]) > Math.abs(col[best])) best = i;
    letters[j] = col[best] < 0 ? AXIS_LETTERS[best][1] : AXIS_LETTERS[best][0];
    for (let k = 0; k < 3; k++) r[best][k] = 0;
  }
  return letters.join('');
}

function parseCode(code: string): { world: number[]; positive: boolean[] } {
  const up = typeof code === 'string' ? code.toUpperCase() : '';
  const world: number[] = [];
  const positive: boolean[] = [];
  for (const ch of up) {
    const w = AXIS_LETTERS.findIndex((pair) => pair.includes(ch));
    if (w < 0) break;
    world.push(w);
    positive.push(AXIS_LETTERS[w][0] === ch);
  }
  if (up.length !== 3 || world.length !== 3 || new Set(world).size !== 3) {
    throw new ValueError(
      `Orientation must be three letters, one from each of R/L, A/P, S/I (e.g. 'RAS', 'LPS', 'LAS'), got '${String(code)}'.`,
    );
  }
  return { world, positive };
}

/**
 * Reorders and flips a volume's voxel axes so they run in the directions `target` names (e.g.
 * `'RAS'`), updating dims, spacing and the affine so every voxel keeps its world position. Only
 * permutations and flips are applied (no resampling); for oblique scans each voxel axis goes to
 * its nearest world axis. Extra dimensions (time) are carried along. Returns a new volume; the
 * input is unchanged (the data is copied even when no change is needed).
 */
export function reorientVolume(vol: NiftiVolume, target: OrientationCode): NiftiVolume {
  const want = parseCode(target);
  const current = orientationCodes(vol.affine);
  if (current.includes('?')) {
    throw new ValueError(
      `reorientVolume: the volume's affine is rank-deficient (orientation '${current}': a voxel axis maps to no world direction), so there is no orientation to change. Fix the affine first.`,
    );
  }
  const have = parseCode(current);
  const perm = [0, 0, 0]; // perm[k] = old voxel axis that becomes new axis k
  const flip = [false, false, false];
  for (let k = 0; k < 3; k++) {
    const j = have.world.indexOf(want.world[k]);
    perm[k] = j;
    flip[k] = have.positive[j] !== want.positive[k];
  }
  const oldDims = vol.dims;
  const newDims = oldDims.slice();
  const newSpacing = vol.spacing.slice();
  for (let k = 0; k < 3; k++) {
    newDims[k] = oldDims[perm[k]];
    newSpacing[k] = vol.spacing[perm[k]];
  }
  // old index = T · new index: column k of T is ±e_perm[k], offset (D−1) where flipped.
  const T: Matrix4 = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  for (let k = 0; k < 3; k++) {
    const j = perm[k];
    T[j][k] = flip[k] ? -1 : 1;
    if (flip[k]) T[j][3] = oldDims[j] - 1;
  }
  const affine = matmul4(vol.affine, T);

  const strides = [1, oldDims[0], oldDims[0] * oldDims[1]];
  const frame = oldDims[0] * oldDims[1] * oldDims[2];
  const frames = vol.data.length / frame;
  const step = [0, 1, 2].map((k) => (flip[k] ? -strides[perm[k]] : strides[perm[k]]));
  const start = [0, 1, 2].reduce((s, k) => s + (flip[k] ? (oldDims[perm[k]] - 1) * strides[perm[k]] : 0), 0);
  const src = vol.data;
  const out = new (src.constructor as new (n: number) => VolumeArray)(src.length);
  const [n0, n1, n2] = [newDims[0], newDims[1], newDims[2]];
  let o = 0;
  for (let f = 0; f < frames; f++) {
    const base = f * frame + start;
    for (let c = 0; c < n2; c++) {
      const bc = base + c * step[2];
      for (let b = 0; b < n1; b++) {
        let idx = bc + b * step[1];
        for (let a = 0; a < n0; a++, idx += step[0]) out[o++] = src[idx];
      }
    }
  }

  const h = vol.header;
  const changed = perm.some((p, k) => p !== k) || flip.some(Boolean);
  const sformCode = h.sformCode > 0 ? h.sformCode : h.qformCode > 0 ? h.qformCode : changed ? 2 : 0;
  const qformCode = affineToQuatern(affine) ? (h.qformCode > 0 ? h.qformCode : sformCode) : 0;
  return new NiftiVolume({
    dims: newDims,
    data: out,
    spacing: newSpacing,
    affine,
    sclSlope: vol.sclSlope,
    sclInter: vol.sclInter,
    header: {
      ...h,
      sformCode,
      qformCode,
      sform: sformCode > 0 ? affine.map((r) => r.slice()) : null,
      qform: qformCode > 0 ? affine.map((r) => r.slice()) : null,
      // dim_info names voxel axes by position; after a permutation it would lie.
      dimInfo: perm.every((p, k) => p === k) ? h.dimInfo : 0,
    },
  });
}

/** Which plane {@link sliceVolume} cuts: anatomical names (resolved through the affine) or a voxel axis. */
export type SliceAxis = 'sagittal' | 'coronal' | 'axial' | 0 | 1 | 2;

/** Options of {@link sliceVolume}. */
export interface SliceOptions {
  /** Frame of a 4-D (or higher) volume, counting over all dimensions after the third. Default 0. */
  frame?: number;
  /**
   * Reverse the row order, so the row axis's highest index comes first: with RAS data this puts
   * anterior (axial) or superior (coronal, sagittal) at the top, the usual way to display a slice.
   * Default false: row r is voxel index r.
   */
  flipRows?: boolean;
}

/** The voxel axis an anatomical plane name refers to, for a volume's affine. */
export function resolveSliceAxis(affine: Matrix4, axis: SliceAxis): 0 | 1 | 2 {
  if (axis === 0 || axis === 1 || axis === 2) return axis;
  const world = axis === 'sagittal' ? 0 : axis === 'coronal' ? 1 : axis === 'axial' ? 2 : -1;
  if (world < 0) {
    throw new ValueError(`Slice axis must be 'sagittal', 'coronal', 'axial', 0, 1 or 2, got ${JSON.stringify(axis)}.`);
  }
  const codes = orientationCodes(affine);
  const j = [...codes].findIndex((ch) => AXIS_LETTERS[world].includes(ch));
  if (j < 0) {
    throw new ValueError(`Slice axis '${axis}' is undefined: the affine (orientation '${codes}') maps no voxel axis to that world direction. Pass a voxel axis 0, 1 or 2 instead.`);
  }
  return j as 0 | 1 | 2;
}

/**
 * One 2-D slice of a volume as a float32 {@link ImageData2D} with the header's intensity scaling
 * applied.
 *
 * `axis` 0/1/2 fixes that voxel axis. `'sagittal'`, `'coronal'` and `'axial'` fix the voxel axis
 * that runs closest to left–right, anterior–posterior and inferior–superior according to the
 * affine, so they mean the same plane whatever the file's storage order. The two remaining voxel
 * axes, lower one first, become columns (width) and rows (height); for RAS data an axial slice
 * is x by y, coronal x by z, sagittal y by z.
 *
 * @throws ValueError for an unknown axis or an index or frame outside the volume.
 */
export function sliceVolume(vol: NiftiVolume, axis: SliceAxis, index: number, options: SliceOptions = {}): ImageData2D {
  const ax = resolveSliceAxis(vol.affine, axis);
  const dims = vol.dims;
  if (!Number.isInteger(index) || index < 0 || index >= dims[ax]) {
    throw new ValueError(`Slice index ${index} is outside 0..${dims[ax] - 1} for axis ${String(axis)} (voxel axis ${ax}, size ${dims[ax]}).`);
  }
  const frameSize = dims[0] * dims[1] * dims[2];
  const frames = vol.data.length / frameSize;
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) {
    throw new ValueError(`Slice frame ${frame} is outside 0..${frames - 1}.`);
  }
  const [a, b] = [0, 1, 2].filter((d) => d !== ax);
  const strides = [1, dims[0], dims[0] * dims[1]];
  const width = dims[a];
  const height = dims[b];
  const out = new Float32Array(width * height);
  const src = vol.data;
  const s = vol.sclSlope;
  const c0 = vol.sclInter;
  const base = frame * frameSize + index * strides[ax];
  for (let r = 0; r < height; r++) {
    const row = options.flipRows ? height - 1 - r : r;
    let idx = base + row * strides[b];
    const o = r * width;
    for (let c = 0; c < width; c++, idx += strides[a]) out[o + c] = s * src[idx] + c0;
  }
  return { width, height, channels: 1, data: out };
}
