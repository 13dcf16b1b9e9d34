import { ValueError } from '../core/errors.js';

/**
 * A learning-rate schedule: the learning rate to use at a given (0-based) step. `fit` also passes
 * the run's total step count, so a schedule can span the run without being told its length.
 */
export type LRSchedule = (step: number, totalSteps?: number) => number;

/** Constant learning rate. */
export function constantLR(lr: number): LRSchedule {
  return () => lr;
}

/**
 * Cosine annealing from `lr` to `minLr` over `totalSteps` (as `CosineAnnealingLR` with
 * `T_max = totalSteps`, `eta_min = minLr`), held at `minLr` afterwards. Without `totalSteps`, the
 * run's length that `fit` passes is used.
 */
export function cosineLR(options: { lr: number; totalSteps?: number; minLr?: number }): LRSchedule {
  const { lr } = options;
  const minLr = options.minLr ?? 0;
  if (options.totalSteps !== undefined && !(options.totalSteps > 0)) throw new ValueError(`cosineLR needs totalSteps > 0, but got ${options.totalSteps}.`);
  return (step, runSteps) => {
    const totalSteps = options.totalSteps ?? runSteps;
    if (totalSteps === undefined || !(totalSteps > 0)) {
      throw new ValueError(`cosineLR was given no totalSteps and was called outside fit (which passes the run's length); give cosineLR({ lr, totalSteps }).`);
    }
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
  return (step, totalSteps) => {
    if (step < warmupSteps) return lr * (start + (1 - start) * (step / warmupSteps));
    return after(step - warmupSteps, totalSteps === undefined ? undefined : totalSteps - warmupSteps);
  };
}

/** Multiplies the learning rate by `gamma` every `stepSize` steps, as `StepLR`. */
export function stepLR(options: { lr: number; stepSize: number; gamma?: number }): LRSchedule {
  const gamma = options.gamma ?? 0.1;
  if (!(options.stepSize > 0)) throw new ValueError(`stepLR needs stepSize > 0, but got ${options.stepSize}.`);
  return (step) => options.lr * gamma ** Math.floor(step / options.stepSize);
}
