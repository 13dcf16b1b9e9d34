export * from './image.js';
export * from './line-chart.js';
