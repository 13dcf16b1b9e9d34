// Seeded synthetic 3-D test volumes in the spirit of MONAI's `create_test_image_3d`: a few
// random solid ellipsoids on a dark background, Gaussian noise on top, and their union as the
// label. MONAI draws spheres with uniform noise; ellipsoids with independent radii and a random
// brightness per object make the task less trivial than a threshold, and seeding makes the
// held-out volumes the same on every run.
import { Generator } from '../src/index.js';

/** Options of {@link ellipsoidVolumes}. */
export interface EllipsoidOptions {
  /** Edge length of the cubic volumes (voxels). */
  size: number;
  /** Ellipsoids per volume: uniform in [1, maxObjects]. Default 4. */
  maxObjects?: number;
  /** Smallest and largest semi-axis, as fractions of `size`. Default [0.08, 0.25]. */
  radius?: [number, number];
  /** Standard deviation of the additive Gaussian noise. Default 0.25. */
  noise?: number;
}

/** Volumes `[size, size, size]` (z, y, x; x fastest) and their 0/1 labels. */
export interface EllipsoidSet {
  images: Float32Array[];
  labels: Uint8Array[];
}

/** `count` volumes drawn from the generator seeded with `seed`. */
export function ellipsoidVolumes(count: number, seed: number, options: EllipsoidOptions): EllipsoidSet {
  const { size } = options;
  const maxObjects = options.maxObjects ?? 4;
  const [rLo, rHi] = options.radius ?? [0.08, 0.25];
  const noise = options.noise ?? 0.25;
  const g = new Generator(seed);
  const images: Float32Array[] = [];
  const labels: Uint8Array[] = [];
  const n = size * size * size;
  for (let v = 0; v < count; v++) {
    const image = new Float32Array(n);
    const label = new Uint8Array(n);
    const objects = g.randint(1, maxObjects + 1);
    for (let o = 0; o < objects; o++) {
      const r = [0, 1, 2].map(() => size * (rLo + (rHi - rLo) * g.random()));
      // Centres keep at least half of each semi-axis inside the volume.
      const c = r.map((ri) => ri / 2 + g.random() * (size - ri));
      const brightness = 0.6 + 0.4 * g.random();
      for (let z = 0; z < size; z++) {
        const dz = (z - c[0]) / r[0];
        if (dz * dz > 1) continue;
        for (let y = 0; y < size; y++) {
          const dy = (y - c[1]) / r[1];
          if (dz * dz + dy * dy > 1) continue;
          for (let x = 0; x < size; x++) {
            const dx = (x - c[2]) / r[2];
            if (dz * dz + dy * dy + dx * dx <= 1) {
              const i = (z * size + y) * size + x;
              label[i] = 1;
              image[i] = Math.max(image[i], brightness);
            }
          }
        }
      }
    }
    const eps = g.normalArray(n, 0, noise);
    for (let i = 0; i < n; i++) image[i] += eps[i];
    images.push(image);
    labels.push(label);
  }
  return { images, labels };
}
