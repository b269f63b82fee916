import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  changeLineOf,
  changeRecordsForBatch,
  partitionsFor,
  stringifyLossless,
  toTimedChangeRecord,
} from '../../../src/change-stream/index.js';
import { TABLES, streamRecordInputs } from './identical-output/inputs.js';
import { changeOutcomes, firehoseOutcome, lakeFiles } from './identical-output/outcomes.js';

/**
 * The change path must write exactly what it wrote at commit c62475b: `expected.json.gz` was produced by that commit's
 * code from the same inputs (see identical-output/generate-expected.ts), and any byte of a line, a partition, a
 * failure reason or a gzip lake file that differs fails here.
 */
const expected = JSON.parse(
  gunzipSync(readFileSync(new URL('./identical-output/expected.json.gz', import.meta.url))).toString('utf8'),
) as Array<{ table: string; outcomes: unknown[]; lake: string[]; firehose: string }>;
const inputs = streamRecordInputs();

describe('change path output is byte-identical to commit c62475b', () => {
  it('covers every table config of the fixture', () => {
    expect(expected.map((entry) => entry.table)).toEqual(TABLES.map((table) => table.name));
  });

  for (const [index, table] of TABLES.entries()) {
    describe(`table ${table.name}`, () => {
      it('lines, partitions, event times and failures', () => {
        const actual = changeOutcomes(inputs, table);
        const wanted = expected[index]!.outcomes;
        expect(actual.length).toBe(wanted.length);
        for (let i = 0; i < wanted.length; i++) expect(actual[i], `outcome ${i}`).toEqual(wanted[i]);
      });

      it('gzip lake files (keys and bytes) through landChangeBatch', async () => {
        expect(await lakeFiles(inputs, table)).toEqual(expected[index]!.lake);
      });

      it('the Firehose transform result', () => {
        expect(firehoseOutcome(inputs, table)).toBe(expected[index]!.firehose);
      });
    });
  }

  it('the direct path takes most well-formed records (so the comparison exercises it)', () => {
    const options = { table: 'Visits', partitionBy: ['year', 'month', 'day'] };
    const taken = inputs.filter((input) => changeLineOf(input, options) !== undefined).length;
    expect(taken).toBeGreaterThan(300);
  });

  it('the direct path agrees with the reference path for SDK-shaped records (bytes, Dates)', () => {
    const sdkRecord = {
      eventID: 'sdk-1',
      eventName: 'MODIFY',
      dynamodb: {
        ApproximateCreationDateTime: new Date(Date.UTC(2024, 2, 1, 12)),
        Keys: { id: { S: 'k' } },
        NewImage: { id: { S: 'k' }, blob: { B: new Uint8Array([0, 1, 2, 255]) }, n: { N: '1' } },
        OldImage: { id: { S: 'k' }, blobs: { BS: [new Uint8Array([9]), 'AA=='] } },
        SequenceNumber: '42',
      },
    };
    const { ok, failed } = changeRecordsForBatch([sdkRecord], { name: 'Visits' });
    expect(failed).toEqual([]);
    const reference = toTimedChangeRecord(sdkRecord, { table: 'Visits' });
    expect(ok[0]!.line).toBe(stringifyLossless(reference.record));
    expect(ok[0]!.partitions).toEqual(partitionsFor(reference.record, undefined, reference.eventTime));
    expect(ok[0]!.record).toEqual(reference.record);
  });
});
