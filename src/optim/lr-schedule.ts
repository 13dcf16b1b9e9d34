import { ValueError } from '../core/errors.js';

/** A learning-rate schedule: the learning rate to use at a given (0-based) optimizer step. */
export type LRSchedule = (step: number) => number;

/** Constant learning rate. */
export function constantLR(lr: number): LRSchedule {
  return () => lr;
}

/**
 * Cosine annealing from `lr` to `minLr` over `totalSteps` (as `CosineAnnealingLR` with
 * `T_max = totalSteps`, `eta_min = minLr`), held at `minLr` afterwards.
 */
export function cosineLR(options: { lr: number; totalSteps: number; minLr?: number }): LRSchedule {
  const { lr, totalSteps } = options;
  const minLr = options.minLr ?? 0;
  if (!(totalSteps > 0)) throw new ValueError(`cosineLR needs totalSteps > 0, but got ${totalSteps}.`);
  return (step) => {
    const t = Math.min(step, totalSteps);
    return minLr + 0.5 * (lr - minLr) * (1 + Math.cos((Math.PI * t) / totalSteps));
  };
}

/**
 * Linear warm-up from `lr · startFactor` to `lr` over `warmupSteps`, then `after` (offset so that
 * its step 0 is the first step after warm-up), as transformers' `get_cosine_schedule_with_warmup`
 * when `after` is {@link cosineLR}.
 */
export function warmupLR(options: { lr: number; warmupSteps: number; startFactor?: number; after?: LRSchedule }): LRSchedule {
  const { lr, warmupSteps } = options;
  const start = options.startFactor ?? 0;
  const after = options.after ?? constantLR(lr);
  return (step) => {
    if (step < warmupSteps) return lr * (start + (1 - start) * (step / warmupSteps));
    return after(step - warmupSteps);
  };
}

/** Multiplies the learning rate by `gamma` every `stepSize` steps, as `StepLR`. */
export function stepLR(options: { lr: number; stepSize: number; gamma?: number }): LRSchedule {
  const gamma = options.gamma ?? 0.1;
  if (!(options.stepSize > 0)) throw new ValueError(`stepLR needs stepSize > 0, but got ${options.stepSize}.`);
  return (step) => options.lr * gamma ** Math.floor(step / options.stepSize);
}
