export * from './errors.js';
export * from './export-manifest.js';
export * from './land-export.js';
export * from './land-export-file.js';
export type * from './types.js';
export * from './export-time.js';
export * from './vanished-keys.js';
