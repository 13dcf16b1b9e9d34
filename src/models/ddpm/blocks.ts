import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../../core/errors.js';
import { Module } from '../../core/module.js';
import { Generator, toGenerator, type SeedLike } from '../../core/random.js';
import { SiLU } from '../../layers/activations.js';
import { Conv2d } from '../../layers/conv2d.js';
import { Linear } from '../../layers/linear.js';
import { ResidualBlock } from '../../layers/residual-block.js';
import { SelfAttention2d } from '../../layers/self-attention.js';
import { Sequential } from '../../layers/sequential.js';
import { Upsample } from '../../layers/upsample.js';
import { groupsFor } from './internal.js';

/**
 * The MLP after the sinusoidal projection of the timestep (diffusers' `TimestepEmbedding`):
 * Linear → SiLU → Linear. Children `linear_1`, `act`, `linear_2`.
 */
export class DiffusionTimestepEmbedding extends Module<tf.Tensor, tf.Tensor> {
  /** First projection, sinusoid width → embedding width. */
  readonly linear1: Linear;
  /** The nonlinearity. */
  readonly act: SiLU;
  /** Second projection, embedding width → embedding width. */
  readonly linear2: Linear;

  /**
   * @param inFeatures - width of the sinusoidal embedding.
   * @param embeddingDim - width of the time embedding the residual blocks receive.
   * @param seed - initialisation seed.
   */
  constructor(inFeatures: number, embeddingDim: number, seed?: SeedLike) {
    super();
    const gen = toGenerator(seed);
    this.linear1 = this.registerModule('linear_1', new Linear(inFeatures, embeddingDim, { seed: gen }));
    this.act = this.registerModule('act', new SiLU());
    this.linear2 = this.registerModule('linear_2', new Linear(embeddingDim, embeddingDim, { seed: gen }));
  }

  /** `[B, inFeatures]` → `[B, embeddingDim]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.linear2.forward(this.act.forward(this.linear1.forward(x))));
  }
}

/**
 * A learned embedding per class, added to the time embedding for class-conditional diffusion
 * (diffusers' `class_embedding`, an `nn.Embedding` initialised N(0, 1)). Label −1 means "no class"
 * and maps to a zero vector, so one network serves both the conditional and the unconditional
 * model that classifier-free guidance mixes. Parameter `weight` `[numClasses, embeddingDim]`.
 */
export class DiffusionClassEmbedding extends Module<tf.Tensor, tf.Tensor> {
  /** Number of classes. */
  readonly numClasses: number;
  /** The embedding table. */
  readonly weight: tf.Variable;

  /**
   * @param numClasses - number of classes (labels 0 … numClasses − 1).
   * @param embeddingDim - width of each embedding.
   * @param seed - initialisation seed.
   */
  constructor(numClasses: number, embeddingDim: number, seed?: SeedLike) {
    super();
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new ValueError(`numClassEmbeds must be a positive integer, but got ${numClasses}.`);
    }
    this.numClasses = numClasses;
    this.weight = this.registerParameter('weight', toGenerator(seed).normal([numClasses, embeddingDim]));
  }

  /** Labels `[B]` (int32, −1 for none) → `[B, embeddingDim]`. */
  forward(labels: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // One-hot rows times the table rather than a gather: gather's gradient needs UnsortedSegmentSum,
      // which the wasm backend lacks. A −1 label matches no class, so its row is zero.
      const idx = tf.reshape(tf.cast(labels, 'int32'), [-1, 1]);
      const classes = tf.reshape(tf.range(0, this.numClasses, 1, 'int32'), [1, -1]);
      const oneHot = tf.cast(tf.equal(idx, classes), 'float32');
      return tf.matMul(oneHot, this.weight);
    });
  }

  override extraRepr(): string {
    return `${this.numClasses}, ${this.weight.shape[1]}`;
  }
}

/** Halves H and W with a 3×3 stride-2 convolution (diffusers' `Downsample2D`). Child `conv`. */
export class DiffusionDownsample extends Module<tf.Tensor, tf.Tensor> {
  /** The strided convolution. */
  readonly conv: Conv2d;

  /** @param channels - input and output channels. @param seed - initialisation seed. */
  constructor(channels: number, seed?: SeedLike) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(channels, channels, 3, { stride: 2, padding: 1, seed }));
  }

  /** `[B, H, W, C]` → `[B, H/2, W/2, C]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.conv.forward(x);
  }
}

/** Doubles H and W by nearest-neighbour resizing, then a 3×3 convolution (diffusers' `Upsample2D`). Child `conv`. */
export class DiffusionUpsample extends Module<tf.Tensor, tf.Tensor> {
  /** The convolution after resizing. */
  readonly conv: Conv2d;
  private readonly resize = new Upsample({ scaleFactor: 2, mode: 'nearest' });

  /** @param channels - input and output channels. @param seed - initialisation seed. */
  constructor(channels: number, seed?: SeedLike) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(channels, channels, 3, { padding: 1, seed }));
  }

  /** `[B, H, W, C]` → `[B, 2H, 2W, C]`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.conv.forward(this.resize.forward(x)));
  }
}

/** Settings shared by the blocks of a {@link DiffusionUNet}. */
export interface DiffusionBlockSettings {
  /** Width of the time embedding. */
  timeEmbeddingDim: number;
  /** Preferred GroupNorm groups (lowered per width, see the U-Net's `normNumGroups`). */
  normNumGroups: number;
  /** Dropout inside residual blocks. */
  dropout: number;
  /** Attention heads. */
  attentionHeads: number;
  /** Initialisation generator. */
  generator: Generator;
}

/** Input of {@link DiffusionLevel.forward}. */
export interface DiffusionLevelInput {
  /** Features `[B, H, W, C]`. */
  x: tf.Tensor;
  /** Time embedding `[B, timeEmbeddingDim]`. */
  timeEmbedding: tf.Tensor;
  /**
   * Skip features concatenated (channels last) before each residual block, one per block, in the
   * order the blocks run (up levels). Omit for down levels.
   */
  skips?: tf.Tensor[];
}

/** Output of {@link DiffusionLevel.forward}. */
export type DiffusionLevelOutput = {
  /** The level's final features (after the resampler, when there is one). */
  output: tf.Tensor;
  /** The features after each residual block (and attention), then after the downsampler: what a down level hands to the decoder as skips. */
  states: tf.Tensor[];
};

/**
 * One resolution level of a diffusion U-Net (diffusers' `DownBlock2D` / `AttnDownBlock2D` and their
 * up counterparts): residual blocks conditioned on the time embedding, each followed by
 * self-attention when `withAttention`, then optionally a resampler. Up levels concatenate one skip
 * tensor before each residual block. Children `resnets`, `attentions` (when present), and
 * `downsamplers` / `upsamplers`.
 */
export class DiffusionLevel extends Module<DiffusionLevelInput, DiffusionLevelOutput> {
  /** The residual blocks, in order. */
  readonly resnetList: ResidualBlock[];
  /** Self-attention after each residual block (empty when the level has none). */
  readonly attentionList: SelfAttention2d[];
  /** The resampler at the end of the level, if any. */
  readonly resampler: DiffusionDownsample | DiffusionUpsample | null;

  /**
   * @param inChannels - input width of each residual block (skip channels included for up levels).
   * @param outChannels - output width of every residual block.
   * @param withAttention - add a {@link SelfAttention2d} after each residual block.
   * @param resample - `'down'`, `'up'` or `'none'`.
   * @param settings - see {@link DiffusionBlockSettings}.
   */
  constructor(inChannels: number[], outChannels: number, withAttention: boolean, resample: 'down' | 'up' | 'none', settings: DiffusionBlockSettings) {
    super();
    const gen = settings.generator;
    const groups = groupsFor(outChannels, settings.normNumGroups);
    this.resnetList = inChannels.map((c) => new ResidualBlock(c, outChannels, {
      norm: 'group', groups, activation: 'silu', dropout: settings.dropout, timeEmbeddingDim: settings.timeEmbeddingDim, seed: gen,
    }));
    this.registerModule('resnets', new Sequential(...this.resnetList));
    this.attentionList = withAttention
      ? this.resnetList.map(() => new SelfAttention2d(outChannels, { numHeads: settings.attentionHeads, normGroups: groups, seed: gen }))
      : [];
    if (withAttention) this.registerModule('attentions', new Sequential(...this.attentionList));
    if (resample === 'down') {
      this.resampler = new DiffusionDownsample(outChannels, gen);
      this.registerModule('downsamplers', new Sequential(this.resampler));
    } else if (resample === 'up') {
      this.resampler = new DiffusionUpsample(outChannels, gen);
      this.registerModule('upsamplers', new Sequential(this.resampler));
    } else {
      this.resampler = null;
    }
  }

  /** Runs the level; see {@link DiffusionLevelInput} and {@link DiffusionLevelOutput}. */
  forward(input: DiffusionLevelInput): DiffusionLevelOutput {
    const { x, timeEmbedding, skips } = input;
    if (skips !== undefined && skips.length !== this.resnetList.length) {
      throw new ValueError(`DiffusionLevel has ${this.resnetList.length} residual blocks and needs as many skips, but got ${skips.length}.`);
    }
    return tf.tidy(() => {
      const states: tf.Tensor[] = [];
      let h = x;
      this.resnetList.forEach((block, i) => {
        if (skips) h = tf.concat([h, skips[i]], -1);
        h = block.forwardWithTime(h, timeEmbedding);
        if (this.attentionList.length > 0) h = this.attentionList[i].forward(h);
        states.push(h);
      });
      if (this.resampler) {
        h = this.resampler.forward(h);
        if (this.resampler instanceof DiffusionDownsample) states.push(h);
      }
      return { output: h, states };
    });
  }
}

/**
 * The bottleneck of a diffusion U-Net (diffusers' `UNetMidBlock2D`): residual block, optional
 * self-attention, residual block, at constant width. Children `resnets` (2) and `attentions` (0 or 1).
 */
export class DiffusionMidBlock extends Module<DiffusionLevelInput, tf.Tensor> {
  /** The two residual blocks. */
  readonly resnetList: [ResidualBlock, ResidualBlock];
  /** The attention between them, or null. */
  readonly attention: SelfAttention2d | null;

  /**
   * @param channels - width of the bottleneck.
   * @param withAttention - put a {@link SelfAttention2d} between the residual blocks.
   * @param settings - see {@link DiffusionBlockSettings}.
   */
  constructor(channels: number, withAttention: boolean, settings: DiffusionBlockSettings) {
    super();
    const gen = settings.generator;
    const opts = {
      norm: 'group' as const, groups: groupsFor(channels, settings.normNumGroups), activation: 'silu' as const,
      dropout: settings.dropout, timeEmbeddingDim: settings.timeEmbeddingDim, seed: gen,
    };
    const first = new ResidualBlock(channels, channels, opts);
    this.attention = withAttention ? new SelfAttention2d(channels, { numHeads: settings.attentionHeads, normGroups: opts.groups, seed: gen }) : null;
    const second = new ResidualBlock(channels, channels, opts);
    this.resnetList = [first, second];
    this.registerModule('resnets', new Sequential(first, second));
    if (this.attention) this.registerModule('attentions', new Sequential(this.attention));
  }

  /** `[B, H, W, C]` → `[B, H, W, C]` at time embedding `timeEmbedding` (`skips` must be absent). */
  forward(input: DiffusionLevelInput): tf.Tensor {
    if (input.skips !== undefined) throw new ValueError('DiffusionMidBlock takes no skip features.');
    return tf.tidy(() => {
      let h = this.resnetList[0].forwardWithTime(input.x, input.timeEmbedding);
      if (this.attention) h = this.attention.forward(h);
      return this.resnetList[1].forwardWithTime(h, input.timeEmbedding);
    });
  }
}
