export * from './local-export-runtime.js';
export * from './in-process-delay-queue.js';
export * from './workflow-definition.js';
