// Losses: plain functions of tensors. Add an export line per file.
export * from './loss-fn.js';
export * from './kl.js';
export * from './kl-annealing.js';
export * from './bce.js';
export * from './regression.js';
export * from './cross-entropy.js';
export * from './dice.js';
export * from './dice-ce.js';
export * from './dice-focal.js';
export * from './generalized-dice.js';
export * from './focal.js';
export * from './tversky.js';
export * from './adversarial.js';
export * from './gradient-penalty.js';
export * from './likelihood.js';
