import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { Module } from '../../core/module.js';
import { toGenerator, type SeedLike } from '../../core/random.js';
import { assertFloat, assertRank, formatShape } from '../../core/shape.js';
import { SiLU } from '../../layers/activations.js';
import { Conv2d } from '../../layers/conv2d.js';
import { GroupNorm } from '../../layers/groupnorm.js';
import { Sequential } from '../../layers/sequential.js';
import { SinusoidalTimeEmbedding } from '../../layers/time-embedding.js';
import {
  DiffusionClassEmbedding,
  DiffusionLevel,
  DiffusionMidBlock,
  DiffusionTimestepEmbedding,
  type DiffusionBlockSettings,
} from './blocks.js';
import { classLabelTensor, groupsFor } from './internal.js';

/** Options of {@link DiffusionUNet}; names follow diffusers' `UNet2DModel` (camelCase) where they overlap. */
export interface DiffusionUNetOptions {
  /** Channels of the images being denoised. */
  inChannels: number;
  /** Channels of the prediction. Default `inChannels` (ε, v or x₀ are shaped like the sample). */
  outChannels?: number;
  /**
   * Width of each resolution level, top first (diffusers' `block_out_channels`). The network
   * downsamples `channels.length − 1` times, so H and W must be divisible by 2^(levels − 1).
   * Default `[32, 64, 128]`.
   */
  channels?: number[];
  /** Residual blocks per level on the way down; the way up has one more per level (diffusers). Default 2. */
  layersPerBlock?: number;
  /**
   * Levels (indices into `channels`, 0 = full resolution) whose residual blocks are followed by
   * self-attention, on the way down and up. Attention costs (H·W)², so use deep levels. Default `[]`.
   */
  attentionLevels?: number[];
  /** Self-attention in the bottleneck between its two residual blocks. Default true (as diffusers). */
  midBlockAttention?: boolean;
  /** Heads of every self-attention block; must divide the level's width. Default 1. */
  attentionHeads?: number;
  /** Width of the time embedding fed to every residual block. Default 4 · channels[0] (DDPM, diffusers). */
  timeEmbeddingDim?: number;
  /**
   * Number of classes for class-conditional generation: a learned class embedding is added to the
   * time embedding. Label −1 means unconditional (a zero embedding). Default: none (unconditional model).
   */
  numClassEmbeds?: number | null;
  /**
   * Preferred GroupNorm groups (diffusers' `norm_num_groups`), lowered per width to the largest
   * divisor that leaves at least two channels per group: the time embedding is added before a
   * GroupNorm, and one channel per group would normalise it away. Default 32.
   */
  normNumGroups?: number;
  /** Dropout inside the residual blocks (DDPM used 0.1 on CIFAR-10). Default 0. */
  dropout?: number;
  /** Seeds the initialisation and the dropout masks. */
  seed?: SeedLike;
}

/** A {@link DiffusionUNetOptions} with every default filled in (the seed left out), as saved. */
export interface DiffusionUNetConfig {
  /** See {@link DiffusionUNetOptions.inChannels}. */
  inChannels: number;
  /** See {@link DiffusionUNetOptions.outChannels}. */
  outChannels: number;
  /** See {@link DiffusionUNetOptions.channels}. */
  channels: number[];
  /** See {@link DiffusionUNetOptions.layersPerBlock}. */
  layersPerBlock: number;
  /** See {@link DiffusionUNetOptions.attentionLevels}. */
  attentionLevels: number[];
  /** See {@link DiffusionUNetOptions.midBlockAttention}. */
  midBlockAttention: boolean;
  /** See {@link DiffusionUNetOptions.attentionHeads}. */
  attentionHeads: number;
  /** See {@link DiffusionUNetOptions.timeEmbeddingDim}. */
  timeEmbeddingDim: number;
  /** See {@link DiffusionUNetOptions.numClassEmbeds}; null for an unconditional model. */
  numClassEmbeds: number | null;
  /** See {@link DiffusionUNetOptions.normNumGroups}. */
  normNumGroups: number;
  /** See {@link DiffusionUNetOptions.dropout}. */
  dropout: number;
}

/**
 * Per-sample values: a tensor of rank 0 or 1, an array, or one number for the whole batch.
 * Timesteps may be fractional; class labels are integers (−1 = no class).
 */
export type PerSampleValues = tf.Tensor | ArrayLike<number> | number;

/** Input of {@link DiffusionUNet.forward}. */
export interface DiffusionUNetInput {
  /** The noisy sample x_t, `[B, H, W, inChannels]`, float32. */
  x: tf.Tensor;
  /** The diffusion timestep of each sample (`[B]`), or one for all. */
  timesteps: PerSampleValues;
  /**
   * Class of each sample (`[B]`), or one for all; −1 or omitted = unconditional. Only for models
   * built with `numClassEmbeds`.
   */
  classLabels?: PerSampleValues;
}

/**
 * The ε-prediction U-Net of DDPM (Ho et al. 2020), laid out as diffusers' `UNet2DModel`:
 *
 * ```
 * temb = time_embedding(time_proj(t)) [+ class_embedding(label)]     sinusoid → Linear → SiLU → Linear
 * h = conv_in(x)                                                      3×3, → channels[0]
 * down: per level, layersPerBlock × (ResidualBlock(h, temb) [→ SelfAttention2d]), then a
 *       stride-2 conv (except the last level); every output is kept as a skip
 * mid:  ResidualBlock → [SelfAttention2d] → ResidualBlock
 * up:   per level, deepest first, (layersPerBlock + 1) × (concat skip → ResidualBlock [→ attention]),
 *       then nearest ×2 + 3×3 conv (except the top level)
 * out = conv_out(SiLU(GroupNorm(h)))                                  3×3, → outChannels
 * ```
 *
 * Residual blocks are medvae's {@link ResidualBlock} with GroupNorm and SiLU, the time embedding
 * projected and added after their first convolution. The sinusoid has width channels[0], cosines
 * first and no frequency shift, as `UNet2DModel`.
 *
 * Children: `time_proj`, `time_embedding`, `class_embedding` (conditional models), `conv_in`,
 * `down_blocks.<i>`, `mid_block`, `up_blocks.<i>` (deepest first), `conv_norm_out`, `conv_act`, `conv_out`.
 *
 * @example
 * ```ts
 * const unet = new DiffusionUNet({ inChannels: 1, channels: [32, 64, 128], attentionLevels: [2], seed: 0 });
 * const eps = unet.forward({ x: noisy, timesteps: [999, 500] });   // noisy: [2, 32, 32, 1] → [2, 32, 32, 1]
 * ```
 */
export class DiffusionUNet extends Module<DiffusionUNetInput, tf.Tensor4D> {
  /** The resolved options. */
  readonly config: DiffusionUNetConfig;
  /** Sinusoidal projection of the timesteps (no parameters). */
  readonly timeProj: SinusoidalTimeEmbedding;
  /** MLP on the sinusoid. */
  readonly timeEmbedding: DiffusionTimestepEmbedding;
  /** Class embedding, or null for an unconditional model. */
  readonly classEmbedding: DiffusionClassEmbedding | null;
  /** First 3×3 convolution. */
  readonly convIn: Conv2d;
  /** Encoder levels, top first. */
  readonly downBlocks: DiffusionLevel[];
  /** Bottleneck. */
  readonly midBlock: DiffusionMidBlock;
  /** Decoder levels, deepest first. */
  readonly upBlocks: DiffusionLevel[];
  /** GroupNorm before the output convolution. */
  readonly convNormOut: GroupNorm;
  /** Final 3×3 convolution to `outChannels`. */
  readonly convOut: Conv2d;
  private readonly act: SiLU;

  /** @param options - see {@link DiffusionUNetOptions}. */
  constructor(options: DiffusionUNetOptions) {
    super();
    const config = resolveConfig(options);
    this.config = config;
    const { channels, layersPerBlock } = config;
    const levels = channels.length;
    const gen = toGenerator(options.seed);
    const settings: DiffusionBlockSettings = {
      timeEmbeddingDim: config.timeEmbeddingDim,
      normNumGroups: config.normNumGroups,
      dropout: config.dropout,
      attentionHeads: config.attentionHeads,
      generator: gen,
    };

    this.timeProj = this.registerModule('time_proj', new SinusoidalTimeEmbedding(channels[0], { flipSinToCos: true, downscaleFreqShift: 0 }));
    this.timeEmbedding = this.registerModule('time_embedding', new DiffusionTimestepEmbedding(channels[0], config.timeEmbeddingDim, gen));
    this.classEmbedding = config.numClassEmbeds !== null
      ? this.registerModule('class_embedding', new DiffusionClassEmbedding(config.numClassEmbeds, config.timeEmbeddingDim, gen))
      : null;
    this.convIn = this.registerModule('conv_in', new Conv2d(config.inChannels, channels[0], 3, { padding: 1, seed: gen }));

    // Channels of every skip tensor, in the order the encoder produces them.
    const skipChannels: number[] = [channels[0]];
    this.downBlocks = [];
    let prev = channels[0];
    for (let i = 0; i < levels; i++) {
      const out = channels[i];
      const ins = Array.from({ length: layersPerBlock }, (_, j) => (j === 0 ? prev : out));
      const last = i === levels - 1;
      this.downBlocks.push(new DiffusionLevel(ins, out, config.attentionLevels.includes(i), last ? 'none' : 'down', settings));
      for (let j = 0; j < layersPerBlock; j++) skipChannels.push(out);
      if (!last) skipChannels.push(out);
      prev = out;
    }
    this.registerModule('down_blocks', new Sequential(...this.downBlocks.map(asTensorModule)));

    this.midBlock = this.registerModule('mid_block', new DiffusionMidBlock(prev, config.midBlockAttention, settings));

    this.upBlocks = [];
    for (let i = levels - 1; i >= 0; i--) {
      const out = channels[i];
      const ins: number[] = [];
      for (let j = 0; j <= layersPerBlock; j++) {
        ins.push(prev + (skipChannels.pop() as number));
        prev = out;
      }
      this.upBlocks.push(new DiffusionLevel(ins, out, config.attentionLevels.includes(i), i === 0 ? 'none' : 'up', settings));
    }
    this.registerModule('up_blocks', new Sequential(...this.upBlocks.map(asTensorModule)));

    this.convNormOut = this.registerModule('conv_norm_out', new GroupNorm(groupsFor(channels[0], config.normNumGroups), channels[0]));
    this.act = this.registerModule('conv_act', new SiLU());
    this.convOut = this.registerModule('conv_out', new Conv2d(channels[0], config.outChannels, 3, { padding: 1, seed: gen }));
  }

  /** The factor input heights and widths must be divisible by (2^(levels − 1)). */
  get sizeDivisor(): number {
    return 2 ** (this.config.channels.length - 1);
  }

  /** Whether the model takes class labels. */
  get isConditional(): boolean {
    return this.classEmbedding !== null;
  }

  /** The prediction (ε for a DDPM) `[B, H, W, outChannels]` for noisy samples at the given timesteps. */
  forward(input: DiffusionUNetInput): tf.Tensor4D {
    const { x } = input;
    assertRank(x, 4, 'DiffusionUNet x', 'NHWC');
    assertFloat(x, 'DiffusionUNet x');
    const [batch, height, width, ch] = x.shape;
    if (ch !== this.config.inChannels) {
      throw new ShapeError(`DiffusionUNet expects ${this.config.inChannels}-channel inputs (last axis), but got shape ${formatShape(x.shape)}.`);
    }
    const d = this.sizeDivisor;
    if (height % d !== 0 || width % d !== 0) {
      throw new ShapeError(
        `DiffusionUNet input height and width must be divisible by ${d} (it downsamples ${this.config.channels.length - 1} times), ` +
          `but got ${height}×${width}. Resize or pad the images.`,
      );
    }
    const labels = this.classEmbedding ? classLabelTensor(input.classLabels, batch, this.classEmbedding.numClasses) : null;
    if (!this.classEmbedding && input.classLabels !== undefined) {
      throw new ValueError('This DiffusionUNet is unconditional (built without numClassEmbeds) but classLabels were given.');
    }
    try {
      return tf.tidy(() => {
        const t = timestepTensor(input.timesteps, batch);
        let temb = this.timeEmbedding.forward(this.timeProj.forward(t));
        if (this.classEmbedding && labels) temb = tf.add(temb, this.classEmbedding.forward(labels));
        let h = this.convIn.forward(x);
        const skips: tf.Tensor[] = [h];
        for (const level of this.downBlocks) {
          const { output, states } = level.forward({ x: h, timeEmbedding: temb });
          skips.push(...states);
          h = output;
        }
        h = this.midBlock.forward({ x: h, timeEmbedding: temb });
        for (const level of this.upBlocks) {
          const n = level.resnetList.length;
          const own = skips.splice(skips.length - n, n).reverse();
          h = level.forward({ x: h, timeEmbedding: temb, skips: own }).output;
        }
        return this.convOut.forward(this.act.forward(this.convNormOut.forward(h))) as tf.Tensor4D;
      });
    } finally {
      labels?.dispose();
    }
  }

  override extraRepr(): string {
    const c = this.config;
    return `inChannels=${c.inChannels}, outChannels=${c.outChannels}, channels=[${c.channels.join(', ')}], ` +
      `layersPerBlock=${c.layersPerBlock}, attentionLevels=[${c.attentionLevels.join(', ')}]` +
      (c.numClassEmbeds !== null ? `, numClassEmbeds=${c.numClassEmbeds}` : '');
  }
}

// Sequential's children are typed tensor → tensor; the levels are only stored there for naming.
function asTensorModule(m: DiffusionLevel): Module<tf.Tensor, tf.Tensor> {
  return m as unknown as Module<tf.Tensor, tf.Tensor>;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`DiffusionUNet ${name} must be a positive integer, but got ${String(v)}.`);
  return v;
}

function resolveConfig(o: DiffusionUNetOptions): DiffusionUNetConfig {
  const channels = o.channels ?? [32, 64, 128];
  if (!Array.isArray(channels) || channels.length < 1 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new ValueError(`DiffusionUNet channels must list positive integers (one width per level), but got [${String(channels)}].`);
  }
  const attentionLevels = [...(o.attentionLevels ?? [])];
  for (const l of attentionLevels) {
    if (!Number.isInteger(l) || l < 0 || l >= channels.length) {
      throw new ValueError(`DiffusionUNet attentionLevels entries must be level indices in [0, ${channels.length - 1}], but got ${l}.`);
    }
  }
  const dropout = o.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new ValueError(`DiffusionUNet dropout must be in [0, 1), but got ${dropout}.`);
  const numClassEmbeds = o.numClassEmbeds ?? null;
  if (numClassEmbeds !== null) positiveInt(numClassEmbeds, 'numClassEmbeds');
  const inChannels = positiveInt(o.inChannels, 'inChannels');
  const attentionHeads = positiveInt(o.attentionHeads ?? 1, 'attentionHeads');
  const midBlockAttention = o.midBlockAttention ?? true;
  const attended = [...attentionLevels.map((l) => channels[l]), ...(midBlockAttention ? [channels[channels.length - 1]] : [])];
  for (const c of attended) {
    if (c % attentionHeads !== 0) throw new ValueError(`DiffusionUNet attentionHeads (${attentionHeads}) must divide the width of every attended level, but ${c} is not divisible.`);
  }
  return {
    inChannels,
    outChannels: positiveInt(o.outChannels ?? inChannels, 'outChannels'),
    channels: [...channels],
    layersPerBlock: positiveInt(o.layersPerBlock ?? 2, 'layersPerBlock'),
    attentionLevels,
    midBlockAttention,
    attentionHeads,
    timeEmbeddingDim: positiveInt(o.timeEmbeddingDim ?? 4 * channels[0], 'timeEmbeddingDim'),
    numClassEmbeds,
    normNumGroups: positiveInt(o.normNumGroups ?? 32, 'normNumGroups'),
    dropout,
  };
}

/** Timesteps as a float32 `[batch]` tensor (call inside a tidy). */
function timestepTensor(timesteps: PerSampleValues, batch: number): tf.Tensor1D {
  let t: tf.Tensor;
  if (timesteps instanceof tf.Tensor) {
    if (timesteps.rank > 1) throw new ShapeError(`DiffusionUNet timesteps must be a scalar or 1-D, but got shape ${formatShape(timesteps.shape)}.`);
    t = tf.reshape(tf.cast(timesteps, 'float32'), [-1]);
  } else {
    const arr = typeof timesteps === 'number' ? [timesteps] : Array.from(timesteps);
    if (arr.some((v) => !Number.isFinite(v))) throw new ValueError(`DiffusionUNet timesteps must be finite numbers, but got [${arr.join(', ')}].`);
    t = tf.tensor1d(arr, 'float32');
  }
  const n = t.shape[0];
  if (n === batch) return t as tf.Tensor1D;
  if (n === 1) return tf.tile(t, [batch]) as tf.Tensor1D;
  throw new ShapeError(`DiffusionUNet got ${n} timesteps for a batch of ${batch}; pass one per sample or a single one.`);
}
