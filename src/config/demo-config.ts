import type { TributaryConfigInput } from './schema.js';

/** The built-in config used when no config file exists: the SYSTEM.md §1 table and a patients table. */
export const demoConfig: TributaryConfigInput = {
  tables: [
    {
      name: 'visits',
      partitionKey: 'id',
      stream: 'NEW_AND_OLD_IMAGES',
      pipe: {
        filter: [{ eventName: ['INSERT', 'MODIFY', 'REMOVE'] }],
        partitionBy: ['siteId', 'year', 'month', 'day'],
        eventTime: { attribute: 'createdAtTime', unit: 'ms' },
        batchSize: 100,
        flushSeconds: 2,
      },
    },
    {
      name: 'patients',
      partitionKey: 'id',
      stream: 'NEW_AND_OLD_IMAGES',
      pipe: {
        filter: [{ eventName: ['INSERT', 'MODIFY', 'REMOVE'] }],
        enrichment: 'patient-fhir',
        target: 'bus',
        batchSize: 10,
        flushSeconds: 2,
      },
    },
  ],
  patientEnrichment: { writeThrough: true, validate: true },
  // Local exports finish in moments: check often.
  export: { initialCheckDelaySeconds: 1, maxCheckDelaySeconds: 2 },
};
