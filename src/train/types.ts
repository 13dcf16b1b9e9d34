import type * as tf from '@tensorflow/tfjs-core';
import type { Generator } from '../core/random.js';

/** Scalar values a step or a validation pass reports, by name (e.g. `{ loss: 0.12, dice: 0.93 }`). */
export type Logs = Record<string, number>;

/** The message of a failed device-side input check: text, or text made from the flag's value. */
export type CheckMessage = string | ((flagValue: number) => string);

/** What a training step is told about where the run is. */
export interface StepContext {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based index of the batch within the epoch. */
  batchIndex: number;
  /** 0-based count of steps over the whole run (continues across a resume). */
  globalStep: number;
  /** The run's generator: draw step randomness (timesteps, noise) from it so a resumed run repeats it. */
  generator: Generator;
  /**
   * Queues a check of the inputs that runs on the device: `flag` is a scalar (bool or number) that
   * is nonzero when the batch is bad. The loop reads it with the step's logs (asynchronously) and
   * stops with a ValueError carrying `message` and the step. `message` may be a function of the
   * flag's value (so a flag can carry the offending value into the message). The loop takes
   * ownership of `flag`.
   */
  check(flag: tf.Tensor, message: CheckMessage): void;
}

/**
 * What a step reports, by name: scalar tensors (read asynchronously by the loop, which takes
 * ownership of them and disposes them) or plain numbers. At least `loss`, by convention.
 */
export type StepLogs = Record<string, tf.Tensor | number>;

/**
 * One optimisation step on one batch: computes the loss, updates the weights, and returns the
 * logs to report (at least `loss`), as scalar tensors the loop reads later or as numbers. Custom
 * steps plug in here: a GAN's two optimizers, a DDPM's random timesteps. The step owns every other
 * tensor it creates and must leave none behind; it should not read tensors back itself
 * (`dataSync`), which would make every step wait for the device.
 */
export type TrainStep<B> = (batch: B, context: StepContext) => StepLogs | Promise<StepLogs>;

/** One epoch's entry in the training history. */
export interface EpochRecord {
  /** 0-based epoch. */
  epoch: number;
  /** Mean of each training log over the epoch's steps. */
  train: Logs;
  /** Validation results (empty when there is no validation). */
  val: Logs;
  /** Seconds the epoch took, validation included. */
  seconds: number;
  /** Steps run in the epoch (fewer than the loader's length when `maxSteps` or a stop ended it early). */
  steps?: number;
}

/** Progress of a run, as given to progress callbacks. */
export interface Progress {
  /** 0-based epoch. */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Steps done in this epoch. */
  step: number;
  /** Steps done over the run (continues across a resume). */
  globalStep: number;
  /** Steps this model has been trained for in this process, over every `fit` call. */
  modelStep: number;
  /** Steps per epoch, when known. */
  stepsPerEpoch: number | undefined;
  /** Running means of the step logs in this epoch. */
  logs: Logs;
  /** Steps per second in this epoch. */
  stepsPerSecond: number;
  /** Estimated seconds left in this epoch, when the epoch length is known. */
  etaSeconds: number | undefined;
}
