// The surroundings the documentation's code examples assume: values an example uses without
// defining them, because the text around it says where they come from (a trained model, a batch,
// a loaded volume). test/docs/doc-examples.test.ts makes these visible to every example that does
// not define the name itself; nothing here runs. Each is declared once, with the type the examples
// expect, so that one name means one thing across the docs.
import type * as tf from '@tensorflow/tfjs-core';
import type * as nodeFs from 'node:fs/promises';
import type * as nodePath from 'node:path';
import type * as onnxRuntime from 'onnxruntime-node';
import type {
  Adam, Batch, EpochRecord, DDPM, DiffusionUNet, Generator, Linear, NiftiVolume, Module, Sample, Dataset, DataLoader, UNetSegmenter, VAE,
} from '../../src/index.js';

export declare const fs: typeof nodeFs;
export declare const path: typeof nodePath;
export declare const ort: typeof onnxRuntime;
/** A directory or URL the example reads from. */
export declare const dir: string;
export declare const url: string;

/** A model under training: a trained or freshly built segmenter (any Module works the same). */
export declare const model: UNetSegmenter;
export declare const segmenter: UNetSegmenter;
export declare const vae: VAE;
export declare const ddpm: DDPM;
export declare const unet: DiffusionUNet;
export declare const net: Linear;
export declare const adam: Adam;
export declare const gen: Generator;
export declare const params: tf.Variable[];
export declare const grads: tf.Tensor[];
export declare const namedGrads: Map<string, tf.Tensor>;

/** Data the examples train and evaluate on. */
export declare const train: Dataset<Sample>;
export declare const val: Dataset<Sample>;
export declare const slices: Dataset<Sample>;
export declare const trainSlices: Dataset<Sample>;
export declare const testSlices: Dataset<Sample>;
export declare const data: Dataset<Sample>;
export declare const loader: DataLoader;
export declare const batch: Batch;
export declare const volume: NiftiVolume;
export declare const pixels: Float32Array;

/** Tensors: an image batch, a network output, targets, latent statistics. */
export declare const x: tf.Tensor4D;
export declare const y: tf.Tensor4D;
export declare const noisy: tf.Tensor4D;
export declare const images: tf.Tensor4D;
export declare const volumes: tf.Tensor5D;
export declare const logits: tf.Tensor4D;
export declare const labels: tf.Tensor;
export declare const labelMap: tf.Tensor;
export declare const pred: tf.Tensor;
export declare const target: tf.Tensor;
export declare const loss: tf.Scalar;
export declare const mu: tf.Tensor2D;
export declare const logVar: tf.Tensor2D;
export declare const temb: tf.Tensor2D;
export declare const beta: number;

/** Training-loop state the checkpoint examples save. */
export declare const epoch: number;
export declare const globalStep: number;
export declare const history: EpochRecord[];

/** The user's own helpers, named by what they do. */
export declare function lossOf(batch: Batch): tf.Scalar;
export declare function lossOf(model: Module<tf.Tensor, tf.Tensor>, batch: Batch): tf.Scalar;
export declare function trainStep(image: tf.Tensor, mask: tf.Tensor): void;
export declare function saveGrid(images: tf.Tensor, epoch: number): Promise<void>;

/** The scatter-chart example's digits and, per digit, its images' latent coordinates. */
export declare const digits: number[];
export declare const zx: number[][];
export declare const zy: number[][];
