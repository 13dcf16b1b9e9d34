import { Generator, imageArray, type Sample } from '../../src/index.js';

/** Discs of random centre and radius: image = disc + noise, mask = disc. */
export function discs(n: number, size: number, seed: number): Sample[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => {
    const cx = g.randint(4, size - 4);
    const cy = g.randint(4, size - 4);
    const r = 2 + g.random() * 3;
    const img = new Float32Array(size * size);
    const mask = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
      mask[y * size + x] = inside;
      img[y * size + x] = inside + 0.1 * g.randn();
    }
    return { image: imageArray(img, [size, size]), mask: imageArray(mask, [size, size]) };
  });
}
