// Small grid helpers of the 3-D example: block-average resampling with its affine, cropping
// along x, and the three orthogonal planes through a volume as display tiles.
import { type ImageData2D, type Matrix4 } from '../src/index.js';

/** A volume in NIfTI order (x fastest) with its grid size `[nx, ny, nz]`. */
export interface Grid {
  data: Float32Array;
  dims: [number, number, number];
}

/**
 * Downsamples by an integer `factor` by averaging `factor³` blocks (voxels past the last whole
 * block are dropped): a box-filtered resampling to `factor` times the spacing, which for a 1 mm
 * template to 2 or 3 mm is what trilinear interpolation after anti-aliasing amounts to, without
 * aliasing thin structures.
 */
export function blockMean(grid: Grid, factor: number): Grid {
  const [nx, ny, nz] = grid.dims;
  const dims: [number, number, number] = [Math.floor(nx / factor), Math.floor(ny / factor), Math.floor(nz / factor)];
  const out = new Float32Array(dims[0] * dims[1] * dims[2]);
  const norm = 1 / factor ** 3;
  for (let z = 0; z < dims[2]; z++) {
    for (let y = 0; y < dims[1]; y++) {
      for (let x = 0; x < dims[0]; x++) {
        let s = 0;
        for (let k = 0; k < factor; k++) {
          for (let j = 0; j < factor; j++) {
            const row = ((z * factor + k) * ny + y * factor + j) * nx + x * factor;
            for (let i = 0; i < factor; i++) s += grid.data[row + i];
          }
        }
        out[(z * dims[1] + y) * dims[0] + x] = s * norm;
      }
    }
  }
  return { data: out, dims };
}

/** The affine of {@link blockMean}'s grid: voxel i sits at the centre of old voxels factor·i … factor·i + factor − 1. */
export function blockAffine(affine: Matrix4, factor: number): Matrix4 {
  const shift = (factor - 1) / 2;
  return affine.map((row, r) => (r === 3 ? [...row] : [row[0] * factor, row[1] * factor, row[2] * factor, row[3] + shift * (row[0] + row[1] + row[2])]));
}

/** The sub-grid `x0 ≤ x < x1` (all y, z). */
export function cropX(grid: Grid, x0: number, x1: number): Grid {
  const [nx, ny, nz] = grid.dims;
  const w = x1 - x0;
  const out = new Float32Array(w * ny * nz);
  for (let zy = 0; zy < ny * nz; zy++) out.set(grid.data.subarray(zy * nx + x0, zy * nx + x1), zy * w);
  return { data: out, dims: [w, ny, nz] };
}

/** The three planes through voxel `at` (axial z, coronal y, sagittal x), top row = superior/anterior, as row-major arrays. */
export function centralPlanes(data: ArrayLike<number>, dims: [number, number, number], at: [number, number, number]): { data: Float32Array; height: number; width: number }[] {
  const [nx, ny, nz] = dims;
  const idx = (x: number, y: number, z: number): number => (z * ny + y) * nx + x;
  const plane = (height: number, width: number, voxel: (r: number, c: number) => number): { data: Float32Array; height: number; width: number } => {
    const out = new Float32Array(height * width);
    for (let r = 0; r < height; r++) for (let c = 0; c < width; c++) out[r * width + c] = data[voxel(r, c)];
    return { data: out, height, width };
  };
  return [
    plane(ny, nx, (r, c) => idx(c, ny - 1 - r, at[2])), // axial: anterior at the top
    plane(nz, nx, (r, c) => idx(c, at[1], nz - 1 - r)), // coronal: superior at the top
    plane(nz, ny, (r, c) => idx(at[0], c, nz - 1 - r)), // sagittal: superior at the top
  ];
}

/** Pads a row-major plane with `fill` to `size × size` (centred) and enlarges it `zoom` times by pixel repetition. */
export function squareTile(plane: { data: ArrayLike<number>; height: number; width: number }, size: number, zoom: number, fill = 0): Float32Array {
  const side = size * zoom;
  const out = new Float32Array(side * side).fill(fill);
  const top = Math.floor((size - plane.height) / 2);
  const left = Math.floor((size - plane.width) / 2);
  for (let r = 0; r < side; r++) {
    const pr = Math.floor(r / zoom) - top;
    if (pr < 0 || pr >= plane.height) continue;
    for (let c = 0; c < side; c++) {
      const pc = Math.floor(c / zoom) - left;
      if (pc >= 0 && pc < plane.width) out[r * side + c] = plane.data[pr * plane.width + pc];
    }
  }
  return out;
}

/** A grey 8-bit image from values in [0, 1] (clipped). */
export function greyImage(values: Float32Array, side: number): ImageData2D {
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.round(255 * Math.min(1, Math.max(0, values[i])));
  return { width: side, height: side, channels: 1, data, bitDepth: 8 };
}
