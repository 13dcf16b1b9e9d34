import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { variableGrads } from '../core/gradients.js';
import { Module } from '../core/module.js';
import { Generator, toGenerator, type SeedLike } from '../core/random.js';
import { DataLoader } from '../data/data-loader.js';
import type { Dataset } from '../data/dataset.js';
import type { Batch, Sample } from '../data/sample.js';
import { readConfig } from '../io/config-schema.js';
import { SavableModel } from '../io/savable-model.js';
import { Dropout } from '../layers/dropout.js';
import { createActivation, type ActivationKind } from '../layers/factories.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../layers/sequential.js';
import { bceWithLogits } from '../losses/bce.js';
import { crossEntropy } from '../losses/cross-entropy.js';
import { computeConfusionMatrixMetric } from '../metrics/confusion-matrix.js';
import { rocAuc } from '../metrics/roc.js';
import { checkFitOptions, runFit, type FitData } from '../train/fit.js';
import type { FitOptions, OptimizerOptions } from '../train/fit-options.js';
import type { TrainResult } from '../train/train-loop.js';
import { positiveNumber } from '../core/validate.js';
import { isDataset, toLoader, withEval } from './vae-common.js';
import { SAVED_LATENT_CLASSIFIER_SCHEMA } from './config-schemas.js';
import { VAE, type VAEConfig } from './vae.js';

/** Options of {@link LatentClassifier}. */
export interface LatentClassifierOptions {
  /**
   * Number of classes. `2` (default): binary (e.g. lesion vs normal) with one sigmoid logit, so
   * {@link LatentClassifier.predictProba} gives `[B]` probabilities of class 1; `≥ 3`: softmax over
   * `numClasses` logits.
   */
  numClasses?: number;
  /** Hidden widths of the MLP on μ; `[]` gives logistic / softmax regression on the latent means. Default `[32]`. */
  hiddenDims?: number[];
  /** Activation of the hidden layers. Default `'relu'`. */
  activation?: ActivationKind;
  /** Dropout probability after each hidden activation. Default 0. */
  dropout?: number;
  /**
   * Keep the VAE's encoder fixed (default true): its parameters are frozen with `requiresGrad(false)`
   * and it always runs in evaluation mode (BatchNorm statistics untouched), so only the head learns.
   * `false` fine-tunes the encoder and its μ head together with the classifier.
   */
  freezeEncoder?: boolean;
  /**
   * Standardise each latent feature before the head: `(μ − mean) / std`, with the mean and standard
   * deviation of μ over the training data, computed at the start of {@link LatentClassifier.fit}
   * and kept as buffers (`featureMean`, `featureStd`) that `save` / `load` carry. A trained VAE's
   * posterior means differ in scale by orders of magnitude between dimensions (dimensions the KL
   * pushed towards the prior barely move), and a class difference often lives in a low-variance
   * direction; standardising lets a small head find it in tens of epochs rather than thousands.
   * Default false.
   */
  standardize?: boolean;
  /** Seed for the head's initialisation and dropout. */
  seed?: SeedLike;
}

/** A {@link LatentClassifier}'s options with defaults filled in (no seed). */
export type LatentClassifierConfig = Required<Omit<LatentClassifierOptions, 'seed'>>;

/**
 * Options of {@link LatentClassifier.fit}: the shared fit and optimizer options (default lr 1e-3,
 * batch size 32; validation logs {@link LatentClassifier.evaluate}'s metrics) plus the class weight.
 */
export interface LatentClassifierFitOptions extends FitOptions, OptimizerOptions {
  /** Weight of positive examples in the binary loss (`> 1` favours sensitivity when lesions are rare). Binary only. Default 1. */
  posWeight?: number;
}

/** @deprecated Renamed {@link LatentClassifierEvaluateOptions} (medvae names evaluate options `<Model>EvaluateOptions`). */
export type ClassifierEvaluateOptions = LatentClassifierEvaluateOptions;

/** Options of {@link LatentClassifier.evaluate} and {@link LatentClassifier.predict}. */
export interface LatentClassifierEvaluateOptions {
  /** Binary only: a sample is called positive when its probability is ≥ this. Default 0.5. */
  threshold?: number;
  /** Images per forward pass. Default 64. */
  batchSize?: number;
}

/** What {@link LatentClassifier.evaluate} reports (multi-class: one-vs-rest, macro-averaged over classes). */
export interface ClassificationMetrics {
  /** Area under the ROC curve (NaN when the data hold a single class). */
  rocAuc: number;
  /** True positive rate, tp / (tp + fn). */
  sensitivity: number;
  /** True negative rate, tn / (tn + fp). */
  specificity: number;
  /** Fraction of samples classified correctly. */
  accuracy: number;
}

/** The options saved by {@link LatentClassifier.save}: the VAE's and the classifier's. */
interface SavedLatentClassifier {
  vae: VAEConfig;
  classifier: LatentClassifierConfig;
}

function nanMean(xs: number[]): number {
  const ok = xs.filter((v) => !Number.isNaN(v));
  return ok.length > 0 ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

/**
 * Diagnosis from a VAE's latent space: a small MLP that classifies images from the posterior
 * means μ of a (trained) {@link VAE} encoder, e.g. lesion vs normal. With the encoder frozen (the
 * default) the VAE is a fixed feature extractor learned without labels; with
 * `freezeEncoder: false` the encoder is fine-tuned as well.
 *
 * The VAE becomes a child module (`vae`), not a copy: the classifier's `stateDict`, `save` and
 * `dispose` include it (its decoder too, so a loaded classifier's VAE still reconstructs), and
 * freezing switches off `requiresGrad` on the VAE you passed in. The head is the child `head`.
 *
 * @example
 * ```ts
 * const vae = await VAE.load('models/brain-vae');
 * const clf = new LatentClassifier(vae, { numClasses: 2, seed: 0 });
 * await clf.fit(trainSlices, { epochs: 50 });   // samples with label 0 (normal) / 1 (lesion)
 * console.log(await clf.evaluate(testSlices));  // { rocAuc, sensitivity, specificity, accuracy }
 * ```
 */
export class LatentClassifier extends SavableModel<tf.Tensor, tf.Tensor> {
  /** The name saves record (see {@link SavableModel}). */
  static override readonly modelName: string = 'LatentClassifier';

  /** The VAE whose encoder provides the features. */
  readonly vae: VAE;
  /** The MLP from μ `[B, latentDim]` to logits. */
  readonly head: Sequential;
  /** Per-feature mean of μ over the training data (`standardize` only). */
  readonly featureMean: tf.Variable | undefined;
  /** Per-feature standard deviation of μ over the training data (`standardize` only). */
  readonly featureStd: tf.Variable | undefined;
  private readonly cfg: LatentClassifierConfig;

  /**
   * @param vae - the (usually trained) VAE; it is shared, not copied.
   * @param options - see {@link LatentClassifierOptions}.
   */
  constructor(vae: VAE, options: LatentClassifierOptions = {}) {
    super();
    if (!(vae instanceof VAE)) throw new ValueError('LatentClassifier needs a VAE as its first argument (its encoder provides the features).');
    const hiddenDims = options.hiddenDims ?? [32];
    if (!Array.isArray(hiddenDims) || !hiddenDims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ValueError(`LatentClassifier hiddenDims must be a list of positive integers, but got ${JSON.stringify(hiddenDims)}.`);
    }
    this.cfg = {
      numClasses: options.numClasses ?? 2,
      hiddenDims: [...hiddenDims],
      activation: options.activation ?? 'relu',
      dropout: options.dropout ?? 0,
      freezeEncoder: options.freezeEncoder ?? true,
      standardize: options.standardize ?? false,
    };
    if (!Number.isInteger(this.cfg.numClasses) || this.cfg.numClasses < 2) {
      throw new ValueError(`LatentClassifier numClasses must be an integer ≥ 2 (2 = binary), but got ${this.cfg.numClasses}.`);
    }
    if (!(this.cfg.dropout >= 0 && this.cfg.dropout < 1)) throw new ValueError(`LatentClassifier dropout must be in [0, 1), but got ${this.cfg.dropout}.`);
    this.vae = this.registerModule('vae', vae);
    const gen = toGenerator(options.seed);
    const layers: Module<tf.Tensor, tf.Tensor>[] = [];
    let prev = vae.latentDim;
    for (const d of this.cfg.hiddenDims) {
      layers.push(new Linear(prev, d, { seed: gen }), createActivation(this.cfg.activation));
      if (this.cfg.dropout > 0) layers.push(new Dropout(this.cfg.dropout, { seed: gen.fork() }));
      prev = d;
    }
    layers.push(new Linear(prev, this.outputs, { seed: gen }));
    this.head = this.registerModule('head', new Sequential(...layers));
    if (this.cfg.standardize) {
      this.featureMean = this.registerBuffer('featureMean', tf.zeros([vae.latentDim]));
      this.featureStd = this.registerBuffer('featureStd', tf.ones([vae.latentDim]));
    }
    if (this.cfg.freezeEncoder) vae.requiresGrad(false);
    this.train(this.training);
  }

  /** The classifier's options, defaults filled in (without the seed). */
  get config(): LatentClassifierConfig {
    return { ...this.cfg, hiddenDims: [...this.cfg.hiddenDims] };
  }

  private get outputs(): number {
    return this.cfg.numClasses === 2 ? 1 : this.cfg.numClasses;
  }

  /** Sets the mode as usual, except that a frozen encoder always stays in evaluation mode. */
  override train(mode = true): this {
    super.train(mode);
    if (this.cfg?.freezeEncoder) this.vae.eval();
    return this;
  }

  /** The parameters `fit` optimises: the head's, plus the encoder's and its μ head's when fine-tuning. */
  fitParameters(): tf.Variable[] {
    const head = this.head.trainableParameters();
    if (this.cfg.freezeEncoder) return head;
    return [...head, ...this.vae.encoder.trainableParameters(), ...this.vae.fcMu.trainableParameters()];
  }

  /** Latent features μ `[B, latentDim]` of images `[B, H, W, C]`. */
  features(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const { mu, logVar } = this.vae.encode(x);
      logVar.dispose();
      return mu;
    });
  }

  /** Logits: `[B, 1]` for binary, `[B, numClasses]` otherwise. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mu = this.features(x);
      const f = this.featureMean && this.featureStd ? tf.div(tf.sub(mu, this.featureMean), this.featureStd) : mu;
      return this.head.forward(f);
    });
  }

  /**
   * Sets `featureMean` / `featureStd` from the posterior means of every image in `loader` (the
   * encoder in evaluation mode). A standard deviation below 1e-6 becomes 1, so a constant
   * feature is centred but not blown up.
   */
  private async fitStandardization(loader: AsyncIterable<Batch>): Promise<void> {
    const d = this.vae.latentDim;
    const sum = new Float64Array(d);
    const sumSq = new Float64Array(d);
    let n = 0;
    for await (const batch of loader) {
      const mu = withEval(this.vae, () => this.features(batch.image));
      const values = await mu.data();
      mu.dispose();
      for (let i = 0; i < values.length; i++) {
        sum[i % d] += values[i];
        sumSq[i % d] += values[i] * values[i];
      }
      n += batch.image.shape[0];
    }
    if (n === 0) throw new ValueError('LatentClassifier.fit got an empty dataset.');
    const mean = Float32Array.from(sum, (s) => s / n);
    const std = Float32Array.from(sumSq, (s, k) => {
      const sd = Math.sqrt(Math.max(s / n - mean[k] * mean[k], 0));
      return sd < 1e-6 ? 1 : sd;
    });
    tf.tidy(() => {
      (this.featureMean as tf.Variable).assign(tf.tensor1d(mean));
      (this.featureStd as tf.Variable).assign(tf.tensor1d(std));
    });
  }

  /**
   * Class probabilities in evaluation mode: `[B]` (probability of class 1) for binary, `[B, numClasses]`
   * (softmax) otherwise.
   */
  predictProba(x: tf.Tensor): tf.Tensor {
    return withEval(this, () =>
      tf.tidy(() => {
        const logits = this.forward(x);
        return this.cfg.numClasses === 2 ? tf.sigmoid(tf.reshape(logits, [-1])) : tf.softmax(logits, -1);
      }),
    );
  }

  /** Class indices `[B]` (int32): probability ≥ `threshold` for binary, argmax otherwise. */
  predict(x: tf.Tensor, options: LatentClassifierEvaluateOptions = {}): tf.Tensor1D {
    const threshold = options.threshold ?? 0.5;
    return tf.tidy(() => {
      const p = this.predictProba(x);
      return (this.cfg.numClasses === 2 ? tf.cast(tf.greaterEqual(p, threshold), 'int32') : tf.argMax(p, -1)) as tf.Tensor1D;
    });
  }

  private checkLabels(label: tf.Tensor | undefined, where: string): Int32Array {
    if (label === undefined) throw new ValueError(`${where} needs samples with a label (class index in [0, ${this.cfg.numClasses})).`);
    const values = Int32Array.from(label.dataSync());
    for (const v of values) {
      if (!(v >= 0 && v < this.cfg.numClasses)) {
        throw new ValueError(`${where}: labels must be class indices in [0, ${this.cfg.numClasses}), but got ${v}.`);
      }
    }
    return values;
  }

  /**
   * Trains with binary cross-entropy on logits (binary) or cross-entropy (multi-class), Adam, through
   * {@link runFit}. With `standardize`, the feature statistics are first computed over `data`
   * (a Dataset or a DataLoader). Labels are checked on the device (class indices in
   * [0, numClasses)); a batch with others stops the run with a ValueError.
   */
  async fit(data: FitData, options: LatentClassifierFitOptions): Promise<TrainResult> {
    const what = 'LatentClassifier.fit';
    const o = options ?? ({} as LatentClassifierFitOptions);
    checkFitOptions(o, what);
    const binary = this.cfg.numClasses === 2;
    if (o.posWeight !== undefined && !binary) throw new ValueError(`${what}: posWeight applies to binary classification only; use numClasses 2.`);
    if (o.posWeight !== undefined) positiveNumber(o.posWeight, `${what} posWeight`);
    // A resumed run then restores the statistics of the checkpoint with the other weights.
    if (this.cfg.standardize) {
      const stats = data instanceof DataLoader ? data : isDataset(data) ? toLoader(data, o.batchSize ?? 32, o.seed ?? 0) : null;
      if (stats === null) throw new ValueError(`${what}: standardize needs the training data as a Dataset or a DataLoader (its statistics are computed in one pass first).`);
      await this.fitStandardization(stats);
    }
    const params = this.fitParameters();
    const c = this.cfg.numClasses;
    return runFit({
      what, module: this, data, options: o, defaultBatchSize: 32,
      optimizers: { optimizer: { params, options: o, defaultLr: 1e-3, label: '' } },
      step: (batch, ctx) => {
        if (batch.label === undefined) throw new ValueError(`${what} needs samples with a label (class index in [0, ${c})).`);
        const label = tf.reshape(batch.label, [-1]);
        try {
          ctx.check(
            tf.tidy(() => tf.any(tf.logicalOr(tf.logicalOr(tf.less(label, 0), tf.greater(label, c - 1)), tf.notEqual(label, tf.round(label))))),
            `${what}: labels must be class indices in [0, ${c}), but a batch has other values`,
          );
          const { value, grads } = variableGrads(() => {
            const logits = this.forward(batch.image);
            if (binary) return bceWithLogits(tf.reshape(logits, [-1]), tf.cast(label, 'float32'), o.posWeight === undefined ? {} : { posWeight: o.posWeight });
            return crossEntropy(logits, tf.cast(label, 'int32'));
          }, params);
          ctx.update('optimizer', grads);
          return { loss: value };
        } finally {
          label.dispose();
        }
      },
      validate: async (validation) => ({ ...(await this.evaluate(validation)) }),
    });
  }

  /**
   * ROC-AUC (from the probabilities), and sensitivity, specificity and accuracy of the thresholded
   * predictions, over a labelled dataset. Binary: class 1 is the positive class. Multi-class: AUC,
   * sensitivity and specificity are one-vs-rest per class, macro-averaged; predictions are the
   * argmax (`threshold` is not used).
   */
  async evaluate(data: Dataset<Sample>, options: LatentClassifierEvaluateOptions = {}): Promise<ClassificationMetrics> {
    const threshold = options.threshold ?? 0.5;
    const c = this.cfg.numClasses;
    const loader = new DataLoader(data, { batchSize: options.batchSize ?? 64 });
    const scores: number[] = [];
    const labels: number[] = [];
    for await (const batch of loader) {
      const y = this.checkLabels(batch.label, 'LatentClassifier.evaluate');
      const p = this.predictProba(batch.image);
      scores.push(...p.dataSync());
      p.dispose();
      labels.push(...y);
    }
    const n = labels.length;
    if (n === 0) throw new ValueError('LatentClassifier.evaluate got an empty dataset.');
    if (c === 2) {
      let tp = 0;
      let fp = 0;
      let tn = 0;
      let fn = 0;
      for (let i = 0; i < n; i++) {
        const pos = scores[i] >= threshold;
        if (labels[i] === 1) {
          if (pos) tp++;
          else fn++;
        } else if (pos) fp++;
        else tn++;
      }
      const counts = [[[tp, fp, tn, fn]]];
      return {
        rocAuc: rocAuc(scores, labels),
        sensitivity: computeConfusionMatrixMetric('sensitivity', counts)[0][0],
        specificity: computeConfusionMatrixMetric('specificity', counts)[0][0],
        accuracy: computeConfusionMatrixMetric('accuracy', counts)[0][0],
      };
    }
    const oneHot = new Float32Array(n * c);
    const pred = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      oneHot[i * c + labels[i]] = 1;
      let best = 0;
      for (let k = 1; k < c; k++) if (scores[i * c + k] > scores[i * c + best]) best = k;
      pred[i] = best;
    }
    const perClass = Array.from({ length: c }, (_, k) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < n; i++) {
        if (pred[i] === k && labels[i] === k) tp++;
        else if (pred[i] === k) fp++;
        else if (labels[i] === k) fn++;
      }
      return [tp, fp, n - tp - fp - fn, fn];
    });
    const counts = [perClass];
    let correct = 0;
    for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
    return {
      rocAuc: rocAuc({ data: Float32Array.from(scores), shape: [n, c] }, { data: oneHot, shape: [n, c] }),
      sensitivity: nanMean(computeConfusionMatrixMetric('sensitivity', counts)[0]),
      specificity: nanMean(computeConfusionMatrixMetric('specificity', counts)[0]),
      accuracy: correct / n,
    };
  }

  /**
   * What {@link LatentClassifier.save} records: the classifier's config and its whole VAE's, so
   * that `load` rebuilds both (the VAE's decoder included, so a loaded classifier's VAE still
   * reconstructs).
   */
  protected override savedConfig(): Record<string, unknown> {
    const config: SavedLatentClassifier = { vae: this.vae.config, classifier: this.config };
    return { ...config };
  }

  /** Builds an untrained classifier and its VAE from a saved config (`{ vae, classifier }`), checked field by field. */
  static fromConfig(config: Record<string, unknown>): LatentClassifier {
    const saved = readConfig(config, SAVED_LATENT_CLASSIFIER_SCHEMA, 'LatentClassifier config');
    const vae = new VAE(saved.vae);
    try {
      return new LatentClassifier(vae, saved.classifier);
    } catch (err) {
      vae.dispose();
      throw err;
    }
  }

  override extraRepr(): string {
    return `numClasses=${this.cfg.numClasses}, hiddenDims=[${this.cfg.hiddenDims.join(',')}], freezeEncoder=${this.cfg.freezeEncoder}, standardize=${this.cfg.standardize}`;
  }
}
