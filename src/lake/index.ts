export * from './layout.js';
export * from './deterministic-gzip.js';
export * from './error-sink.js';
export * from './file-name.js';
export * from './land-change-batch.js';
export * from './partitioned-ndjson-writer.js';
export type * from './types.js';
export * from './change-order.js';
