export * from './object-store.js';
export * from './event-bus.js';
export * from './clock.js';
