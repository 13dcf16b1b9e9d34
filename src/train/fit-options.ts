import type { Dataset } from '../data/dataset.js';
import type { Sample } from '../data/sample.js';
import type { LRSchedule } from '../optim/lr-schedule.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Callback } from './callbacks.js';
import type { Progress } from './types.js';

/** Checkpointing of a run (Node only: checkpoints are files). */
export interface CheckpointOptions {
  /** File the checkpoint is written to (atomically) at the end of epochs. */
  path: string;
  /** Write every this many epochs (and always after the last). A positive integer; default 1. */
  everyEpochs?: number;
  /**
   * Continue from the newest good checkpoint at `path` when there is one, instead of starting over.
   * `true` refuses a checkpoint of another run (other model configuration or `runId`); `'force'`
   * takes it anyway. Default false (the run starts over; its first checkpoint replaces the old ones).
   */
  resume?: boolean | 'force';
  /** How many of the newest checkpoints to keep (`path`, `path.1`, …). Default 2. */
  keep?: number;
  /** A name for the run, recorded in its checkpoints; a resume into a checkpoint with another name is refused. */
  runId?: string;
}

/** Step-granularity progress written to a text file (Node), for long epochs watched with `tail -f`. */
export interface ProgressLogOptions {
  /** The file; lines are appended. */
  path: string;
  /** Write a line every this many steps. Default 50. */
  everySteps?: number;
  /** Also write a line when this many seconds passed since the last one. Default 60. */
  everySeconds?: number;
}

/**
 * The options every model's `fit` accepts: how long to train, how the data are batched, what is
 * reported, checkpointing. Models add their own (loss weights, targets) on top.
 */
export interface FitOptions {
  /** Number of epochs. */
  epochs: number;
  /** Stop after this many optimisation steps over the run (counted across a resume), even mid-epoch. */
  maxSteps?: number;
  /** Batch size when `data` is a Dataset. The default depends on the model. */
  batchSize?: number;
  /** Seed of the shuffle when `data` is a Dataset, and of the run's generator (step randomness). Default 0. */
  seed?: number;
  /** Held-out samples evaluated after each epoch (the model's `evaluate`); their logs land in `val`. */
  validation?: Dataset<Sample>;
  /** Progress display: `'bar'` (default), `'none'`, or a function called with the progress. */
  onProgress?: 'bar' | 'none' | ((progress: Progress) => void);
  /** Further callbacks (early stopping, ...). */
  callbacks?: Callback[];
  /** Atomic checkpoints and resume. */
  checkpoint?: CheckpointOptions;
  /**
   * Steps between reads of the step logs from the device. Logs are read asynchronously and in
   * batches so that no step waits for the accelerator; callbacks still get every step's logs, in
   * order, at each read. A NaN or infinite loss, parameter or gradient is reported with the step it
   * appeared at. Default 10 (1 reads after every step).
   */
  logEvery?: number;
  /** Step-granularity progress lines in a file. */
  progressLog?: ProgressLogOptions;
}

/** How one optimizer is set up: its learning rate, schedule and gradient clipping, or a ready optimizer. */
export interface OptimizerOptions {
  /** Learning rate of the default optimizer (Adam). The default depends on the model. */
  lr?: number;
  /**
   * A ready optimizer over this model's parameters, used instead of the default Adam; it keeps
   * its state (moments) across `fit` calls. A default optimizer is disposed when `fit` returns.
   */
  optimizer?: Optimizer;
  /**
   * Learning rate per step, applied before every step: `(step, totalSteps) => lr`, the step
   * counted over the whole run. `totalSteps` is the run's length (`maxSteps`, or epochs × batches
   * per epoch), so e.g. `cosineLR({ lr })` needs no step count of its own.
   */
  lrSchedule?: LRSchedule;
  /** Clip the global gradient norm to this value (> 0). Default: no clipping (DDPM: 1). */
  clipGradNorm?: number;
}

/** Adam's betas for an optimizer of a GAN-style model. */
export interface AdamBetasOption {
  /** Adam's β₁, β₂. */
  betas?: [number, number];
}

/**
 * The discriminator's optimizer settings of a GAN-style model (DCGAN, VAEGAN,
 * AdversarialSegmenter), beside the generator-side settings at the top level of its fit options.
 */
export interface DiscriminatorOptimizerOptions {
  /** Learning rate of the discriminator's Adam (shorthand for `discriminator.lr`). Default: the top-level `lr`. */
  discriminatorLr?: number;
  /** Full settings of the discriminator's optimizer: lr, betas, lrSchedule, clipGradNorm, or a ready optimizer. */
  discriminator?: OptimizerOptions & AdamBetasOption;
}
