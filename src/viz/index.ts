export * from './image.js';
export * from './line-chart.js';
export * from './scatter-chart.js';
