export * from './types.js';
export * from './errors.js';
export * from './entry-size.js';
export * from './eventbridge-bus.js';
export * from './local-bus.js';
