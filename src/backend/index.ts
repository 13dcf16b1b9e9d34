export * from './use-backend.js';
