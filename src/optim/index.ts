export * from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './clip-grad.js';
export * from './lr-schedule.js';
