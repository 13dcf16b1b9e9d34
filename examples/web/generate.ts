// The generation panel's work: DDIM sampling from a saved DDPM, tiled into one image.
import * as tf from '@tensorflow/tfjs-core';
import { imageGrid, toDisplayImage, type DDPM, type ImageData2D } from '../../src/index.js';

/** Options of {@link generateGrid}. */
export interface GenerateOptions {
  /** Images to draw. */
  n: number;
  /** DDIM steps. */
  steps: number;
  /** Seed of x_T. */
  seed: number;
  /** Called after each step with the fraction done. */
  onProgress?: (fraction: number) => void | Promise<void>;
}

/** Samples `n` images with deterministic DDIM (η = 0) and tiles them for display. */
export async function generateGrid(ddpm: DDPM, options: GenerateOptions): Promise<{ grid: ImageData2D; ms: number }> {
  const start = performance.now();
  const images = await ddpm.sample(options.n, {
    sampler: 'ddim',
    numInferenceSteps: options.steps,
    seed: options.seed,
    onProgress: (p) => options.onProgress?.(p.step / p.total),
  });
  try {
    const [lo, hi] = ddpm.config.dataRange;
    const tiles: ImageData2D[] = [];
    for (let i = 0; i < options.n; i++) {
      const one = tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]);
      tiles.push(toDisplayImage(one, { min: lo, max: hi }));
      one.dispose();
    }
    return { grid: imageGrid(tiles, { columns: Math.ceil(Math.sqrt(options.n)), padding: 2 }), ms: performance.now() - start };
  } finally {
    images.dispose();
  }
}
