/**
 * Change stream hot path: JSON.parse → filter → change record (lossless unmarshall) → partition →
 * gzip NDJSON files, over N synthetic stream records. Baseline: JSON.parse + JSON.stringify alone.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { changeRecordsForBatch } from '../../src/change-stream/process-batch.js';
import { compileFilters } from '../../src/event-pattern/compile-filters.js';
import { hivePath, lakeLayout } from '../../src/lake/layout.js';
import { PartitionedNdjsonWriter } from '../../src/lake/partitioned-ndjson-writer.js';
import { DirectoryObjectStore } from '../../src/local/object-store/directory-object-store.js';
import { caseArgs, measure } from '../measure.js';
import { streamRecordTexts } from './stream-records.js';

const { variant, n, dir } = caseArgs();
const BATCH = 500; // Firehose's batch limit

if (variant === 'baseline') {
  await measure({ name: 'change-stream', variant: 'baseline: JSON.parse+stringify', unit: 'records' }, async () => {
    let bytes = 0;
    let out = 0;
    for (const text of streamRecordTexts(n)) {
      bytes += text.length;
      out += JSON.stringify(JSON.parse(text)).length;
    }
    if (out === 0) throw new Error('no output');
    return { items: n, bytes };
  });
} else {
  const root = join(dir, `change-stream-${n}`);
  await rm(root, { recursive: true, force: true });
  const store = new DirectoryObjectStore(root);
  const table = {
    name: 'visits',
    pipe: {
      partitionBy: ['siteId', 'year', 'month', 'day'],
      eventTime: { attribute: 'createdAtTime', unit: 'ms' as const },
    },
  };
  const filters = compileFilters([
    { eventName: ['INSERT', 'MODIFY', 'REMOVE'] },
    { dynamodb: { NewImage: { siteId: { S: [{ prefix: '9' }] } } } },
  ]);
  const writer = new PartitionedNdjsonWriter({ store, maxBytes: 5 * 1024 * 1024, maxTotalBytes: 64 * 1024 * 1024 });
  await measure(
    { name: 'change-stream', variant: `filter+unmarshall+partition+gzip (n=${n})`, unit: 'records' },
    async () => {
      let bytes = 0;
      let batch: unknown[] = [];
      const flushBatch = async () => {
        const passed = batch.filter((r) => filters.test(r));
        const { ok, failed } = changeRecordsForBatch(passed, table);
        if (failed.length > 0) throw new Error(`unexpected failures: ${failed[0]!.reason}`);
        for (const change of ok)
          await writer.add(
            lakeLayout.changes('visits') + hivePath(change.partitions),
            change.line,
            change.record.seq ?? change.record.eventId,
          );
        batch = [];
      };
      for (const text of streamRecordTexts(n)) {
        bytes += text.length;
        batch.push(JSON.parse(text));
        if (batch.length === BATCH) await flushBatch();
      }
      await flushBatch();
      await writer.flush();
      if (writer.stats.records !== n) throw new Error(`expected ${n} records written, got ${writer.stats.records}`);
      return { items: n, bytes };
    },
  );
  await rm(root, { recursive: true, force: true });
}
