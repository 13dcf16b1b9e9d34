// 4×4 affine helpers shared by the NIfTI and DICOM readers (internal, not re-exported).
import type { Matrix4 } from './types.js';

/** NIfTI quaternion parameters of a qform (nifti1.h, "METHOD 2"). */
export interface Quatern {
  b: number;
  c: number;
  d: number;
  qx: number;
  qy: number;
  qz: number;
  /** ±1: the sign of the third axis (pixdim[0] in the header). */
  qfac: number;
}

export function identity4(): Matrix4 {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

export function copy4(m: Matrix4): Matrix4 {
  return m.map((row) => row.slice());
}

export function matmul4(a: Matrix4, b: Matrix4): Matrix4 {
  const out: Matrix4 = [[], [], [], []];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[i][k] * b[k][j];
      out[i][j] = s;
    }
  }
  return out;
}

/**
 * qform → affine exactly as nifti1_io.c's `nifti_quatern_to_mat44` does it, including its guards
 * (a tiny `a` renormalises b, c, d; non-positive voxel sizes become 1).
 */
export function quaternToAffine(q: Quatern, dx: number, dy: number, dz: number): Matrix4 {
  let { b, c, d } = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    a = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= a;
    c *= a;
    d *= a;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const xd = dx > 0 ? dx : 1;
  const yd = dy > 0 ? dy : 1;
  let zd = dz > 0 ? dz : 1;
  if (q.qfac < 0) zd = -zd;
  return [
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, q.qx],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, q.qy],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, q.qz],
    [0, 0, 0, 1],
  ];
}

/**
 * Affine → qform parameters, or null when the 3×3 part is not a scaled rotation (shear, zero
 * columns), which a qform cannot represent. Mirrors `nifti_mat44_to_quatern` for orthogonal input.
 */
export function affineToQuatern(m: Matrix4): { q: Quatern; spacing: [number, number, number] } | null {
  const cols: number[][] = [0, 1, 2].map((j) => [m[0][j], m[1][j], m[2][j]]);
  const norms = cols.map((c) => Math.hypot(c[0], c[1], c[2]));
  if (norms.some((n) => !(n > 0) || !Number.isFinite(n))) return null;
  const r = cols.map((c, j) => c.map((v) => v / norms[j])); // r[j] = unit column j
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const dot = r[i][0] * r[j][0] + r[i][1] * r[j][1] + r[i][2] * r[j][2];
      if (Math.abs(dot) > 1e-4) return null;
    }
  }
  // R[row][col] with columns r[col].
  const R = [0, 1, 2].map((i) => [r[0][i], r[1][i], r[2][i]]);
  const det =
    R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
    R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
    R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    for (let i = 0; i < 3; i++) R[i][2] = -R[i][2];
  }
  const [r11, r12, r13] = R[0];
  const [r21, r22, r23] = R[1];
  const [r31, r32, r33] = R[2];
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return {
    q: { b, c, d, qx: m[0][3], qy: m[1][3], qz: m[2][3], qfac },
    spacing: [norms[0], norms[1], norms[2]],
  };
}
