import type { Generator } from '../core/random.js';

/** Scalar values a step or a validation pass reports, by name (e.g. `{ loss: 0.12, dice: 0.93 }`). */
export type Logs = Record<string, number>;

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
}

/**
 * One optimisation step on one batch: computes the loss, updates the weights, and returns the scalar
 * logs to report (at least `loss`). Custom steps plug in here: a GAN's two optimizers, a DDPM's random
 * timesteps. The step owns every tensor it creates and must leave none behind.
 */
export type TrainStep<B> = (batch: B, context: StepContext) => Logs | Promise<Logs>;

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
}

/** Progress of a run, as given to progress callbacks. */
export interface Progress {
  /** 0-based epoch. */
  epoch: number;
  /** Total epochs. */
  epochs: number;
  /** Steps done in this epoch. */
  step: number;
  /** Steps per epoch, when known. */
  stepsPerEpoch: number | undefined;
  /** Running means of the step logs in this epoch. */
  logs: Logs;
  /** Steps per second in this epoch. */
  stepsPerSecond: number;
  /** Estimated seconds left in this epoch, when the epoch length is known. */
  etaSeconds: number | undefined;
}
