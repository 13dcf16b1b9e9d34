import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, ValueError } from '../../core/errors.js';
import { Module } from '../../core/module.js';
import { assertRank } from '../../core/shape.js';
import { toGenerator, type Generator, type SeedLike } from '../../core/random.js';
import { LeakyReLU, ReLU } from '../../layers/activations.js';
import { BatchNorm2d } from '../../layers/batchnorm.js';
import { Conv2d } from '../../layers/conv2d.js';
import { ConvTranspose2d } from '../../layers/conv-transpose2d.js';
import { Dropout } from '../../layers/dropout.js';
import { GroupNorm } from '../../layers/groupnorm.js';
import { InstanceNorm2d } from '../../layers/instancenorm.js';
import { MaxPool2d } from '../../layers/max-pool2d.js';

/** Normalisations of {@link MonaiBasicUNet} (MONAI's `norm` argument: affine instance norm, batch norm, group norm, none). */
export type MonaiBasicUNetNorm = 'instance' | 'batch' | 'group' | 'none';

/** Activations of {@link MonaiBasicUNet} (MONAI's `act` argument). */
export type MonaiBasicUNetAct = 'leakyrelu' | 'relu';

/** Options of {@link MonaiBasicUNet}; the defaults are MONAI's `BasicUNet` defaults. */
export interface MonaiBasicUNetOptions {
  /** Input channels. Default 1. */
  inChannels?: number;
  /** Output channels (class logits). Default 2. */
  outChannels?: number;
  /**
   * Six widths, as MONAI's `features`: the five encoder levels, then the width after the last
   * upsampling. Default `[32, 32, 64, 128, 256, 32]`.
   */
  features?: number[];
  /** Activation. Default `'leakyrelu'`. */
  act?: MonaiBasicUNetAct;
  /** Slope of the LeakyReLU. Default 0.1 (MONAI's default). */
  negativeSlope?: number;
  /** Normalisation. Default `'instance'` (affine, no running statistics). */
  norm?: MonaiBasicUNetNorm;
  /** Groups of `norm: 'group'` (MONAI's `num_groups`); must divide every width. Default 8. */
  groups?: number;
  /** Bias in the 3×3 convolutions (MONAI's `bias`). Default true. */
  bias?: boolean;
  /** Dropout probability after each normalisation. Default 0. */
  dropout?: number;
  /** Seed of the weight initialisation and dropout. */
  seed?: SeedLike;
}

/** A {@link MonaiBasicUNet}'s options with defaults filled in (no seed). */
export type MonaiBasicUNetConfig = Required<Omit<MonaiBasicUNetOptions, 'seed'>>;

/** The normalisation / dropout / activation stage of a MONAI `Convolution` (children `N`, `D`, `A`, applied in that order). */
class MonaiADN extends Module<tf.Tensor, tf.Tensor> {
  private readonly n: Module<tf.Tensor, tf.Tensor> | null;
  private readonly d: Dropout | null;
  private readonly a: Module<tf.Tensor, tf.Tensor>;

  constructor(channels: number, cfg: MonaiBasicUNetConfig, gen: Generator) {
    super();
    const norm = cfg.norm === 'instance' ? new InstanceNorm2d(channels, { affine: true })
      : cfg.norm === 'batch' ? new BatchNorm2d(channels)
        : cfg.norm === 'group' ? new GroupNorm(cfg.groups, channels)
          : null;
    this.n = norm ? this.registerModule('N', norm) : null;
    this.d = cfg.dropout > 0 ? this.registerModule('D', new Dropout(cfg.dropout, { seed: gen.fork() })) : null;
    this.a = this.registerModule('A', cfg.act === 'relu' ? new ReLU() : new LeakyReLU({ negativeSlope: cfg.negativeSlope }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = this.n ? this.n.forward(x) : x;
      if (this.d) h = this.d.forward(h);
      return this.a.forward(h);
    });
  }
}

/** MONAI's `Convolution` block as BasicUNet uses it: a 3×3 conv (padding 1) then {@link MonaiADN}. Children `conv`, `adn`. */
class MonaiConvolution extends Module<tf.Tensor, tf.Tensor> {
  private readonly conv: Conv2d;
  private readonly adn: MonaiADN;

  constructor(inChannels: number, outChannels: number, cfg: MonaiBasicUNetConfig, gen: Generator) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: cfg.bias, seed: gen }));
    this.adn = this.registerModule('adn', new MonaiADN(outChannels, cfg, gen));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.adn.forward(this.conv.forward(x)));
  }
}

/** MONAI's `TwoConv`: children `conv_0`, `conv_1`. */
class MonaiTwoConv extends Module<tf.Tensor, tf.Tensor> {
  private readonly conv0: MonaiConvolution;
  private readonly conv1: MonaiConvolution;

  constructor(inChannels: number, outChannels: number, cfg: MonaiBasicUNetConfig, gen: Generator) {
    super();
    this.conv0 = this.registerModule('conv_0', new MonaiConvolution(inChannels, outChannels, cfg, gen));
    this.conv1 = this.registerModule('conv_1', new MonaiConvolution(outChannels, outChannels, cfg, gen));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.conv1.forward(this.conv0.forward(x)));
  }
}

/** MONAI's `Down`: 2×2 max-pooling then `convs`. */
class MonaiDown extends Module<tf.Tensor, tf.Tensor> {
  private readonly pool: MaxPool2d;
  private readonly convs: MonaiTwoConv;

  constructor(inChannels: number, outChannels: number, cfg: MonaiBasicUNetConfig, gen: Generator) {
    super();
    this.pool = this.registerModule('max_pooling', new MaxPool2d(2));
    this.convs = this.registerModule('convs', new MonaiTwoConv(inChannels, outChannels, cfg, gen));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.convs.forward(this.pool.forward(x)));
  }
}

/** MONAI's `UpSample` in `deconv` mode: child `deconv`, a 2×2 stride-2 transposed convolution. */
class MonaiDeconv extends Module<tf.Tensor, tf.Tensor> {
  private readonly deconv: ConvTranspose2d;

  constructor(inChannels: number, outChannels: number, gen: Generator) {
    super();
    this.deconv = this.registerModule('deconv', new ConvTranspose2d(inChannels, outChannels, 2, { stride: 2, seed: gen }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.deconv.forward(x);
  }
}

/** Input of {@link MonaiUpCat}: the features to upsample and the encoder's features at that level. */
interface UpCatInput {
  x: tf.Tensor;
  skip: tf.Tensor;
}

/**
 * MONAI's `UpCat`: upsample (halving the width unless `halves` is false), pad the result's
 * bottom/right edge by replicating it where the encoder map is one larger (odd sizes), concatenate
 * `[skip, upsampled]` and apply `convs`.
 */
class MonaiUpCat extends Module<UpCatInput, tf.Tensor> {
  private readonly upsample: MonaiDeconv;
  private readonly convs: MonaiTwoConv;

  constructor(inChannels: number, catChannels: number, outChannels: number, halves: boolean, cfg: MonaiBasicUNetConfig, gen: Generator) {
    super();
    const up = halves ? Math.floor(inChannels / 2) : inChannels;
    this.upsample = this.registerModule('upsample', new MonaiDeconv(inChannels, up, gen));
    this.convs = this.registerModule('convs', new MonaiTwoConv(catChannels + up, outChannels, cfg, gen));
  }

  forward({ x, skip }: UpCatInput): tf.Tensor {
    return tf.tidy(() => {
      let u = this.upsample.forward(x);
      // MONAI pads one replicated row/column at the end of an axis whenever the sizes differ.
      const [, uh, uw] = u.shape as number[];
      if (skip.shape[1] !== uh) u = tf.concat([u, tf.slice(u, [0, uh - 1, 0, 0], [-1, 1, -1, -1])], 1);
      if (skip.shape[2] !== uw) u = tf.concat([u, tf.slice(u, [0, 0, uw - 1, 0], [-1, -1, 1, -1])], 2);
      return this.convs.forward(tf.concat([skip, u], 3));
    });
  }
}

function resolve(o: MonaiBasicUNetOptions): MonaiBasicUNetConfig {
  const features = o.features ?? [32, 32, 64, 128, 256, 32];
  if (!Array.isArray(features) || features.length !== 6 || !features.every((f) => Number.isInteger(f) && f > 0)) {
    throw new ValueError(`MonaiBasicUNet features must be six positive integers (five encoder widths, then the last decoder width), as MONAI's, but got ${JSON.stringify(features)}.`);
  }
  const cfg: MonaiBasicUNetConfig = {
    inChannels: o.inChannels ?? 1,
    outChannels: o.outChannels ?? 2,
    features: [...features],
    act: o.act ?? 'leakyrelu',
    negativeSlope: o.negativeSlope ?? 0.1,
    norm: o.norm ?? 'instance',
    groups: o.groups ?? 8,
    bias: o.bias ?? true,
    dropout: o.dropout ?? 0,
  };
  for (const key of ['inChannels', 'outChannels', 'groups'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new ValueError(`MonaiBasicUNet ${key} must be a positive integer, but got ${cfg[key]}.`);
  }
  if (cfg.act !== 'leakyrelu' && cfg.act !== 'relu') throw new ValueError(`MonaiBasicUNet act must be 'leakyrelu' or 'relu', but got '${String(cfg.act)}'.`);
  if (!['instance', 'batch', 'group', 'none'].includes(cfg.norm)) throw new ValueError(`MonaiBasicUNet norm must be 'instance', 'batch', 'group' or 'none', but got '${String(cfg.norm)}'.`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`MonaiBasicUNet dropout must be in [0, 1), but got ${cfg.dropout}.`);
  if (!Number.isFinite(cfg.negativeSlope)) throw new ValueError(`MonaiBasicUNet negativeSlope must be a finite number, but got ${cfg.negativeSlope}.`);
  if (cfg.norm === 'group') {
    const bad = features.filter((f) => f % cfg.groups !== 0);
    if (bad.length > 0) throw new ValueError(`MonaiBasicUNet groups (${cfg.groups}) must divide every width for norm 'group', but not ${bad.join(', ')}.`);
  }
  return cfg;
}

/**
 * MONAI's `BasicUNet` in 2-D (Falk et al., 2019), layer for layer and name for name, so a state
 * dict saved from `monai.networks.nets.BasicUNet(spatial_dims=2, …)` loads with
 * {@link loadTorchStateDict} as it is and gives the same outputs: five levels of two
 * conv → norm → dropout → activation units (max-pooling between levels), transposed-conv
 * upsampling that halves the width (except the last), concatenation `[skip, upsampled]`, and a
 * 1×1 output convolution. Input height and width should be divisible by 16.
 *
 * Children: `conv_0`, `down_1` … `down_4`, `upcat_4` … `upcat_1`, `final_conv`.
 *
 * @example
 * ```ts
 * const net = new MonaiBasicUNet({ inChannels: 1, outChannels: 2, features: [16, 16, 32, 64, 128, 16], seed: 0 });
 * loadTorchStateDict(net, (await loadSafetensors('basic_unet.safetensors')).tensors);
 * const logits = net.eval().forward(images); // [B, H, W, 2]
 * ```
 */
export class MonaiBasicUNet extends Module<tf.Tensor, tf.Tensor> {
  private readonly cfg: MonaiBasicUNetConfig;
  private readonly encoder: [MonaiTwoConv, MonaiDown, MonaiDown, MonaiDown, MonaiDown];
  private readonly decoder: [MonaiUpCat, MonaiUpCat, MonaiUpCat, MonaiUpCat];
  private readonly finalConv: Conv2d;

  constructor(options: MonaiBasicUNetOptions = {}) {
    super();
    const cfg = resolve(options);
    this.cfg = cfg;
    const f = cfg.features;
    const gen = toGenerator(options.seed);
    this.encoder = [
      this.registerModule('conv_0', new MonaiTwoConv(cfg.inChannels, f[0], cfg, gen)),
      this.registerModule('down_1', new MonaiDown(f[0], f[1], cfg, gen)),
      this.registerModule('down_2', new MonaiDown(f[1], f[2], cfg, gen)),
      this.registerModule('down_3', new MonaiDown(f[2], f[3], cfg, gen)),
      this.registerModule('down_4', new MonaiDown(f[3], f[4], cfg, gen)),
    ];
    this.decoder = [
      this.registerModule('upcat_4', new MonaiUpCat(f[4], f[3], f[3], true, cfg, gen)),
      this.registerModule('upcat_3', new MonaiUpCat(f[3], f[2], f[2], true, cfg, gen)),
      this.registerModule('upcat_2', new MonaiUpCat(f[2], f[1], f[1], true, cfg, gen)),
      this.registerModule('upcat_1', new MonaiUpCat(f[1], f[0], f[5], false, cfg, gen)),
    ];
    this.finalConv = this.registerModule('final_conv', new Conv2d(f[5], cfg.outChannels, 1, { seed: gen }));
  }

  /** The options with defaults filled in (without the seed). */
  get config(): MonaiBasicUNetConfig {
    return { ...this.cfg, features: [...this.cfg.features] };
  }

  /** Logits `[B, H, W, outChannels]` for images `[B, H, W, inChannels]`. */
  forward(x: tf.Tensor): tf.Tensor {
    assertRank(x, 4, 'MonaiBasicUNet input', 'NHWC');
    if (x.shape[3] !== this.cfg.inChannels) {
      throw new ShapeError(`MonaiBasicUNet input must have ${this.cfg.inChannels} channels (last axis), but got shape [${x.shape.join(', ')}].`);
    }
    const [, h, w] = x.shape as number[];
    if (h < 16 || w < 16) {
      throw new ShapeError(`MonaiBasicUNet pools four times, so images must be at least 16×16, but got ${h}×${w}.`);
    }
    return tf.tidy(() => {
      const states: tf.Tensor[] = [];
      let h = x;
      for (const stage of this.encoder) {
        h = stage.forward(h);
        states.push(h);
      }
      states.pop();
      for (const up of this.decoder) h = up.forward({ x: h, skip: states.pop() as tf.Tensor });
      return this.finalConv.forward(h);
    });
  }

  override extraRepr(): string {
    const c = this.cfg;
    return `inChannels=${c.inChannels}, outChannels=${c.outChannels}, features=[${c.features.join(', ')}], act=${c.act}, norm=${c.norm}`;
  }
}
