import { checkIntensityNormalization, type IntensityNormalization } from '../data/transforms/image-normalization.js';
import { configField as f, type ConfigField, type ConfigSchema } from '../io/config-schema.js';
import type { ActivationKind, BatchNormSettings, NormKind } from '../layers/factories.js';
import type { AdversarialLossType } from '../losses/adversarial.js';
import { BETA_SCHEDULE_NAMES } from '../schedules/beta-schedules.js';
import { PREDICTION_TYPES } from '../schedules/scheduler-base.js';
import { TIMESTEP_SPACINGS } from '../schedules/timestep-spacing.js';
import type { AdversarialSegmenterOptions } from './adversarial-segmenter.js';
import type { DCGANOptions } from './dcgan/dcgan.js';
import type { DDPMOptions } from './ddpm/ddpm.js';
import type { DiffusionUNetOptions } from './ddpm/diffusion-unet.js';
import type { LatentClassifierOptions } from './latent-classifier.js';
import type { UNetSegmenterOptions } from './unet-segmenter.js';
import type { UNetOptions } from './unet.js';
import type { VAEGANOptions } from './vae-gan.js';
import type { VAEOptions } from './vae.js';

// The schemas by which each model reads a saved config (model.json) back. Each lists every option
// of its model but the seed, which is never saved; options with defaults may be absent, so saves
// from before an option existed still load. Typed by the options, so an option added to a model
// without a line here fails to compile.

const NORMS: readonly NormKind[] = ['batch', 'instance', 'group', 'none'];
const ACTIVATIONS: readonly ActivationKind[] = ['relu', 'leakyrelu', 'silu', 'gelu', 'tanh'];
const ADVERSARIAL_LOSSES: readonly AdversarialLossType[] = ['minimax', 'non-saturating', 'least-squares', 'hinge', 'wasserstein'];

const batchNorm = f.object<BatchNormSettings>({
  momentum: f.optional(f.nullable(f.number({ min: 0, max: 1 }))),
  eps: f.optional(f.positive()),
});

/** Schema of a saved {@link UNet} config. @internal */
export const UNET_SCHEMA: ConfigSchema<Omit<UNetOptions, 'seed'>> = {
  inChannels: f.int(),
  outChannels: f.int(),
  channels: f.optional(f.intList(2)),
  norm: f.optional(f.oneOf(NORMS)),
  groups: f.optional(f.int()),
  activation: f.optional(f.oneOf(ACTIVATIONS)),
  residual: f.optional(f.bool()),
  dropout: f.optional(f.number({ min: 0, max: 1 })),
  upsample: f.optional(f.oneOf(['transpose', 'nearest', 'bilinear'] as const)),
  spatialDims: f.optional(f.oneOf([2, 3] as const)),
  batchNorm: f.optional(batchNorm),
};

// A UNetSegmenter's intensity normalisation, read by the same check its constructor applies.
const intensityNormalization: ConfigField<IntensityNormalization> = {
  expected: "'none' or an intensity normalisation ({ kind: 'percentiles', lower, upper } | { kind: 'zscore' } | { kind: 'range', aMin, aMax } | { kind: 'histogram' })",
  optional: false,
  parse: (v, ctx) => {
    try {
      return checkIntensityNormalization(v, ctx.what);
    } catch {
      return ctx.fail(intensityNormalization.expected);
    }
  },
};

/** Schema of a saved {@link UNetSegmenter} config. @internal */
export const UNET_SEGMENTER_SCHEMA: ConfigSchema<Omit<UNetSegmenterOptions, 'seed'>> = (() => {
  const { outChannels, ...rest } = UNET_SCHEMA;
  void outChannels;
  return { ...rest, numClasses: f.int(), intensity: f.optional(intensityNormalization) };
})();

/** Schema of a saved {@link AdversarialSegmenter} config. @internal */
export const ADVERSARIAL_SEGMENTER_SCHEMA: ConfigSchema<Omit<AdversarialSegmenterOptions, 'seed'>> = {
  ...UNET_SEGMENTER_SCHEMA,
  discriminatorChannels: f.optional(f.intList()),
  discriminatorNorm: f.optional(f.oneOf(NORMS)),
};

/** Schema of a saved {@link VAE} config. @internal */
export const VAE_SCHEMA: ConfigSchema<Omit<VAEOptions, 'seed'>> = {
  inChannels: f.int(),
  imageSize: f.pair(f.int()),
  latentDim: f.int(),
  architecture: f.optional(f.oneOf(['conv', 'mlp'] as const)),
  channels: f.optional(f.intList()),
  hiddenDims: f.optional(f.intList()),
  norm: f.optional(f.oneOf(NORMS)),
  activation: f.optional(f.oneOf(ACTIVATIONS)),
  outChannels: f.optional(f.int()),
  likelihood: f.optional(f.oneOf(['bernoulli', 'gaussian'] as const)),
  gaussianVariance: f.optional(f.positive()),
  batchNorm: f.optional(batchNorm),
};

/** Schema of a saved {@link VAEGAN} config. @internal */
export const VAEGAN_SCHEMA: ConfigSchema<Omit<VAEGANOptions, 'seed'>> = {
  ...VAE_SCHEMA,
  discriminatorChannels: f.optional(f.intList()),
  discriminatorNorm: f.optional(f.oneOf(NORMS)),
  featureMatching: f.optional(f.bool()),
  featureWeight: f.optional(f.number({ min: 0 })),
  pixelWeight: f.optional(f.number({ min: 0 })),
  gamma: f.optional(f.number({ min: 0 })),
  adversarialLoss: f.optional(f.oneOf(ADVERSARIAL_LOSSES)),
};

/** Schema of the classifier part of a saved {@link LatentClassifier} config. @internal */
export const LATENT_CLASSIFIER_SCHEMA: ConfigSchema<Omit<LatentClassifierOptions, 'seed'>> = {
  numClasses: f.optional(f.int(2)),
  hiddenDims: f.optional(f.intList(0)),
  activation: f.optional(f.oneOf(ACTIVATIONS)),
  dropout: f.optional(f.number({ min: 0, max: 1 })),
  freezeEncoder: f.optional(f.bool()),
  standardize: f.optional(f.bool()),
};

/** Schema of a saved {@link LatentClassifier}: its VAE's config and its own. @internal */
export const SAVED_LATENT_CLASSIFIER_SCHEMA: ConfigSchema<{ vae: Omit<VAEOptions, 'seed'>; classifier: Omit<LatentClassifierOptions, 'seed'> }> = {
  vae: f.object(VAE_SCHEMA),
  classifier: f.object(LATENT_CLASSIFIER_SCHEMA),
};

const imageSize = f.either(f.int(), f.pair(f.int()));

/** Schema of a saved {@link DCGAN} config. @internal */
export const DCGAN_SCHEMA: ConfigSchema<Omit<DCGANOptions, 'seed'>> = {
  latentDim: f.optional(f.int()),
  imageSize: f.optional(imageSize),
  imageChannels: f.optional(f.int()),
  generatorChannels: f.optional(f.intList()),
  discriminatorChannels: f.optional(f.intList()),
  discriminatorNorm: f.optional(f.oneOf(NORMS)),
  batchNorm: f.optional(batchNorm),
};

/** Schema of a saved {@link DiffusionUNet} config. @internal */
export const DIFFUSION_UNET_SCHEMA: ConfigSchema<Omit<DiffusionUNetOptions, 'seed'>> = {
  inChannels: f.int(),
  outChannels: f.optional(f.int()),
  channels: f.optional(f.intList()),
  layersPerBlock: f.optional(f.int()),
  attentionLevels: f.optional(f.intList(0, 0)),
  midBlockAttention: f.optional(f.bool()),
  attentionHeads: f.optional(f.int()),
  timeEmbeddingDim: f.optional(f.int()),
  numClassEmbeds: f.optional(f.nullable(f.int())),
  normNumGroups: f.optional(f.int()),
  dropout: f.optional(f.number({ min: 0, max: 1 })),
};

/** Schema of a saved {@link DDPM} config. @internal */
export const DDPM_SCHEMA: ConfigSchema<Omit<DDPMOptions, 'seed'>> = (() => {
  const { outChannels, ...unet } = DIFFUSION_UNET_SCHEMA;
  void outChannels;
  return {
    ...unet,
    numTrainTimesteps: f.optional(f.int()),
    betaSchedule: f.optional(f.oneOf([...BETA_SCHEDULE_NAMES, 'cosine' as const])),
    betaStart: f.optional(f.positive()),
    betaEnd: f.optional(f.positive()),
    predictionType: f.optional(f.oneOf(PREDICTION_TYPES)),
    varianceType: f.optional(f.oneOf(['fixed_small', 'fixed_large'] as const)),
    clipSample: f.optional(f.bool()),
    timestepSpacing: f.optional(f.oneOf(TIMESTEP_SPACINGS)),
    minSnrGamma: f.optional(f.nullable(f.positive())),
    sampleSize: f.optional(f.nullable(imageSize)),
    dataRange: f.optional(f.pair(f.number())),
  };
})();
