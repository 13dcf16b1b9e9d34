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
 * The orientation code of an affine: for each voxel axis, the world axis it runs closest to and
 * its sign. Ambiguous (oblique) axes are resolved greedily by the largest cosine first, as
 * nibabel's `aff2axcodes` does, so each world axis is used once.
 *
 * @example `orientationCodes(readNifti(bytes).affine) // 'RAS'`
 */
export function orientationCodes(affine: Matrix4): OrientationCode {
  const cols = [0, 1, 2].map((j) => {
    const c = [affine[0][j], affine[1][j], affine[2][j]];
    const n = Math.hypot(c[0], c[1], c[2]);
    return n > 0 ? c.map((v) => v / n) : [0, 0, 0];
  });
  const letters = ['', '', ''];
  const usedWorld = new Set<number>();
  const usedVoxel = new Set<number>();
  for (let step = 0; step < 3; step++) {
    let best = -1;
    let bi = -1;
    let bj = -1;
    for (let j = 0; j < 3; j++) {
      if (usedVoxel.has(j)) continue;
      for (let i = 0; i < 3; i++) {
        if (usedWorld.has(i)) continue;
        const a = Math.abs(cols[j][i]);
        if (a > best) {
          best = a;
          bi = i;
          bj = j;
        }
      }
    }
    usedWorld.add(bi);
    usedVoxel.add(bj);
    letters[bj] = cols[bj][bi] >= 0 ? AXIS_LETTERS[bi][0] : AXIS_LETTERS[bi][1];
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
  const have = parseCode(orientationCodes(vol.affine));
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
