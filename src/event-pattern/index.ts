export * from './compile-pattern.js';
export * from './compile-filters.js';
export * from './errors.js';
export type * from './types.js';
