import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { Generator, toGenerator, type SeedLike } from '../core/random.js';
import { assertFloat, assertShape } from '../core/shape.js';
import { LeakyReLU, ReLU, SiLU } from './activations.js';
import { BatchNorm2d } from './batchnorm.js';
import { checkImageInput } from './conv-utils.js';
import { Conv2d } from './conv2d.js';
import { Dropout } from './dropout.js';
import { GroupNorm } from './groupnorm.js';
import { InstanceNorm2d } from './instancenorm.js';
import { Linear } from './linear.js';

/** Normalisation used inside a {@link ResidualBlock}. */
export type ResidualBlockNorm = 'batch' | 'instance' | 'group' | 'none';

/** Activation used inside a {@link ResidualBlock}. */
export type ResidualBlockActivation = 'relu' | 'leakyrelu' | 'silu';

/** Options of {@link ResidualBlock}. */
export interface ResidualBlockOptions {
  /**
   * `'batch'` (BatchNorm2d, the default), `'instance'` (InstanceNorm2d with a learned affine, so
   * every kind has a scale and shift), `'group'` (GroupNorm with `groups` groups) or `'none'`.
   */
  norm?: ResidualBlockNorm;
  /** Number of groups when `norm` is `'group'`; must divide `outChannels`. Default 8. */
  groups?: number;
  /** Nonlinearity: `'relu'` (default), `'leakyrelu'` or `'silu'` (usual in diffusion U-Nets). */
  activation?: ResidualBlockActivation;
  /** Negative slope when `activation` is `'leakyrelu'`. Default 0.01 (PyTorch's). */
  negativeSlope?: number;
  /** Dropout probability between the two convolutions. Default 0 (no dropout layer). */
  dropout?: number;
  /**
   * Width of a time embedding to condition on (DDPM). When set, the block has a `time_emb_proj`
   * Linear and must be called with {@link ResidualBlock.forwardWithTime} (or `forward({ x, timeEmbedding })`).
   */
  timeEmbeddingDim?: number;
  /** Seeds the weight initialisation and the dropout masks. */
  seed?: SeedLike;
}

/** Input of a time-conditioned {@link ResidualBlock}. */
export interface ResidualBlockInput {
  /** Feature map `[N, H, W, inChannels]`. */
  x: tf.Tensor;
  /** Time embedding `[N, timeEmbeddingDim]`. */
  timeEmbedding: tf.Tensor;
}

/**
 * A residual block of two 3×3 convolutions (He et al. 2016), NHWC:
 *
 * ```
 * h = conv1(x) [+ time_emb_proj(act(t)) broadcast over H, W]
 * h = dropout(act(norm1(h)))
 * h = norm2(conv2(h))
 * y = act(h + skip(x))        skip = conv_shortcut (1×1) when channels differ, identity otherwise
 * ```
 *
 * With `timeEmbeddingDim` set it is the DDPM-style block: a Linear projection of the (activated)
 * time embedding is added per channel after the first convolution. Spatial size is preserved.
 *
 * Children: `conv1`, `norm1`, `conv2`, `norm2` (norms absent with `norm: 'none'`),
 * `time_emb_proj` (with a time embedding), `conv_shortcut` (when channels differ), `act`,
 * `dropout` (when `dropout > 0`).
 *
 * @example
 * ```ts
 * const block = new ResidualBlock(32, 64, { norm: 'group', activation: 'silu', timeEmbeddingDim: 128 });
 * const y = block.forwardWithTime(x, temb);   // x: [N, H, W, 32], temb: [N, 128] → [N, H, W, 64]
 * ```
 */
export class ResidualBlock extends Module<tf.Tensor | ResidualBlockInput, tf.Tensor> {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Time-embedding width (null when the block is not time-conditioned). */
  readonly timeEmbeddingDim: number | null;
  /** First 3×3 convolution, inChannels → outChannels. */
  readonly conv1: Conv2d;
  /** Normalisation after `conv1` (null with `norm: 'none'`). */
  readonly norm1: Module<tf.Tensor, tf.Tensor> | null;
  /** Second 3×3 convolution, outChannels → outChannels. */
  readonly conv2: Conv2d;
  /** Normalisation after `conv2` (null with `norm: 'none'`). */
  readonly norm2: Module<tf.Tensor, tf.Tensor> | null;
  /** Projection of the time embedding to outChannels (null without a time embedding). */
  readonly timeEmbProj: Linear | null;
  /** 1×1 convolution on the skip path (null when inChannels equals outChannels). */
  readonly convShortcut: Conv2d | null;
  /** The nonlinearity (shared by all its uses; it has no parameters). */
  readonly act: Module<tf.Tensor, tf.Tensor>;
  /** Dropout between the convolutions (null when `dropout` is 0). */
  readonly dropout: Dropout | null;

  /**
   * @param inChannels - channels of the input.
   * @param outChannels - channels of the output.
   * @param options - see {@link ResidualBlockOptions}.
   */
  constructor(inChannels: number, outChannels: number, options: ResidualBlockOptions = {}) {
    super();
    const norm = options.norm ?? 'batch';
    const activation = options.activation ?? 'relu';
    const groups = options.groups ?? 8;
    const p = options.dropout ?? 0;
    if (!['batch', 'instance', 'group', 'none'].includes(norm)) {
      throw new ValueError(`ResidualBlock norm must be 'batch', 'instance', 'group' or 'none', but got '${String(norm)}'.`);
    }
    if (!['relu', 'leakyrelu', 'silu'].includes(activation)) {
      throw new ValueError(`ResidualBlock activation must be 'relu', 'leakyrelu' or 'silu', but got '${String(activation)}'.`);
    }
    if (norm === 'group' && (!Number.isInteger(groups) || groups < 1 || outChannels % groups !== 0)) {
      throw new ValueError(
        `ResidualBlock: groups (${groups}) must be a positive integer dividing outChannels (${outChannels}) for norm 'group'; ` +
          'pass a groups option that divides the channel count.',
      );
    }
    const ted = options.timeEmbeddingDim;
    if (ted !== undefined && (!Number.isInteger(ted) || ted < 1)) {
      throw new ValueError(`ResidualBlock timeEmbeddingDim must be a positive integer, but got ${ted}.`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.timeEmbeddingDim = ted ?? null;

    const gen: Generator = toGenerator(options.seed);
    const makeNorm = (): Module<tf.Tensor, tf.Tensor> | null => {
      if (norm === 'batch') return new BatchNorm2d(outChannels);
      if (norm === 'instance') return new InstanceNorm2d(outChannels, { affine: true });
      if (norm === 'group') return new GroupNorm(groups, outChannels);
      return null;
    };
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 1, seed: gen }));
    const n1 = makeNorm();
    this.norm1 = n1 ? this.registerModule('norm1', n1) : null;
    this.conv2 = this.registerModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, seed: gen }));
    const n2 = makeNorm();
    this.norm2 = n2 ? this.registerModule('norm2', n2) : null;
    this.timeEmbProj = ted !== undefined ? this.registerModule('time_emb_proj', new Linear(ted, outChannels, { seed: gen })) : null;
    this.convShortcut =
      inChannels !== outChannels ? this.registerModule('conv_shortcut', new Conv2d(inChannels, outChannels, 1, { seed: gen })) : null;
    const act =
      activation === 'relu' ? new ReLU() : activation === 'silu' ? new SiLU() : new LeakyReLU({ negativeSlope: options.negativeSlope ?? 0.01 });
    this.act = this.registerModule('act', act);
    // A seeded block gets its own dropout stream; an unseeded one draws from the global generator at call time.
    this.dropout = p > 0 ? this.registerModule('dropout', new Dropout(p, { seed: options.seed === undefined ? undefined : gen.fork() })) : null;
  }

  /**
   * Applies the block. Give a tensor for a plain block, or `{ x, timeEmbedding }` for a
   * time-conditioned one (same as {@link ResidualBlock.forwardWithTime}).
   */
  forward(input: tf.Tensor | ResidualBlockInput): tf.Tensor {
    if (input instanceof tf.Tensor) {
      if (this.timeEmbProj !== null) {
        throw new ValueError(
          `This ResidualBlock was built with timeEmbeddingDim ${this.timeEmbeddingDim} and needs a time embedding: ` +
            'call forwardWithTime(x, timeEmbedding) or forward({ x, timeEmbedding }).',
        );
      }
      return this.run(input, null);
    }
    return this.forwardWithTime(input.x, input.timeEmbedding);
  }

  /** Applies a time-conditioned block to `x` `[N, H, W, inChannels]` with `timeEmbedding` `[N, timeEmbeddingDim]`. */
  forwardWithTime(x: tf.Tensor, timeEmbedding: tf.Tensor): tf.Tensor {
    if (this.timeEmbProj === null) {
      throw new ValueError(
        'This ResidualBlock has no time embedding (it was built without timeEmbeddingDim): call forward(x), ' +
          'or build it with { timeEmbeddingDim } to condition on time.',
      );
    }
    checkImageInput(x, 'ResidualBlock', this.inChannels);
    assertShape(timeEmbedding, [x.shape[0], this.timeEmbeddingDim], 'ResidualBlock timeEmbedding', ['batch', 'features']);
    assertFloat(timeEmbedding, 'ResidualBlock timeEmbedding');
    return this.run(x, timeEmbedding);
  }

  private run(x: tf.Tensor, timeEmbedding: tf.Tensor | null): tf.Tensor {
    checkImageInput(x, 'ResidualBlock', this.inChannels);
    return tf.tidy(() => {
      let h = this.conv1.forward(x);
      if (timeEmbedding !== null && this.timeEmbProj !== null) {
        const t = this.timeEmbProj.forward(this.act.forward(timeEmbedding));
        h = tf.add(h, tf.reshape(t, [t.shape[0], 1, 1, this.outChannels]));
      }
      if (this.norm1) h = this.norm1.forward(h);
      h = this.act.forward(h);
      if (this.dropout) h = this.dropout.forward(h);
      h = this.conv2.forward(h);
      if (this.norm2) h = this.norm2.forward(h);
      const skip = this.convShortcut ? this.convShortcut.forward(x) : x;
      return this.act.forward(tf.add(h, skip));
    });
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}${this.timeEmbeddingDim !== null ? `, timeEmbeddingDim=${this.timeEmbeddingDim}` : ''}`;
  }
}
