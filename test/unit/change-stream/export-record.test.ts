import { describe, expect, it } from 'vitest';
import {
  changeRecordsForExportLines,
  exportIdOf,
  toExportChangeRecord,
  toNdjsonLine,
} from '../../../src/change-stream/index.js';
import type { ExportContext } from '../../../src/change-stream/index.js';

const full: ExportContext = {
  exportId: '01700000000000-abcd1234',
  exportType: 'FULL_EXPORT',
  exportTime: '2024-03-01T10:00:00.000Z',
  keyAttributes: ['id'],
};
const incremental: ExportContext = { ...full, exportType: 'INCREMENTAL_EXPORT' };

describe('toExportChangeRecord', () => {
  it('FULL line → r with after, no before, ts and source time the export time, deterministic eventId', () => {
    const line = '{"Item":{"id":{"S":"1"},"siteId":{"S":"2"},"n":{"N":"12345678901234567890"}}}';
    const { record, eventTime } = toExportChangeRecord(line, { table: 'Visits', export: full });
    expect(eventTime.toISOString()).toBe(full.exportTime);
    expect(toNdjsonLine(record)).toBe(
      '{"op":"r","table":"Visits","keys":{"id":"1"},"before":null,"after":{"id":"1","siteId":"2","n":12345678901234567890},' +
        `"eventId":"${record.eventId}","seq":null,"ts":"2024-03-01T10:00:00.000Z",` +
        '"source":{"kind":"snapshot","exportId":"01700000000000-abcd1234","time":"2024-03-01T10:00:00.000Z"}}',
    );
    expect(record.eventId).toMatch(/^01700000000000-abcd1234-[0-9a-f]{24}$/);
    // Same key, other attributes: same id (a replay overwrites); another key: another id.
    expect(toExportChangeRecord('{"Item":{"id":{"S":"1"}}}', { table: 'Visits', export: full }).record.eventId).toBe(
      record.eventId,
    );
    expect(
      toExportChangeRecord('{"Item":{"id":{"S":"2"}}}', { table: 'Visits', export: full }).record.eventId,
    ).not.toBe(record.eventId);
  });

  it('INCREMENTAL lines → c, u or d by their images; source time the write time', () => {
    const meta = '"Metadata":{"WriteTimestampMicros":{"N":"1709287200123456"}}';
    const options = { table: 'Visits', export: incremental };
    const created = toExportChangeRecord(`{${meta},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`, options);
    expect(created.record).toMatchObject({ op: 'c', before: null, after: { id: '1' }, seq: null });
    expect(created.record.source).toEqual({
      kind: 'incremental-export',
      exportId: full.exportId,
      time: '2024-03-01T10:00:00.123Z',
    });
    const updated = toExportChangeRecord(
      `{${meta},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}},"OldImage":{"id":{"S":"1"},"x":{"BOOL":true}}}`,
      options,
    );
    expect(updated.record).toMatchObject({ op: 'u', before: { id: '1', x: true } });
    const deleted = toExportChangeRecord(`{${meta},"Keys":{"id":{"S":"1"}},"OldImage":{"id":{"S":"1"}}}`, options);
    expect(deleted.record).toMatchObject({ op: 'd', after: null, before: { id: '1' } });
  });

  it('rejects unusable lines with PHI-free reasons; the batch keeps going', () => {
    const { ok, failed } = changeRecordsForExportLines(
      [
        'not json',
        '{"Item":{"name":{"S":"Jane Example"}}}',
        '{"Item":{"id":{"S":"ok"}}}',
        '{"Nope":1}',
        '{"Item":{"id":{"S":"x"},"siteId":{"NULL":true}}}',
      ],
      { name: 'Visits', pipe: { partitionBy: ['siteId'] } },
      full,
    );
    expect(ok).toHaveLength(0);
    expect(failed.map((f) => f.errorType)).toEqual([
      'InvalidStreamRecord',
      'InvalidStreamRecord',
      'MissingPartitionAttribute',
      'InvalidStreamRecord',
      'InvalidPartitionAttribute',
    ]);
    for (const failure of failed) expect(failure.reason).not.toContain('Jane');
    expect(failed[1]!.reason).toBe('the item lacks key attribute id');
    const good = changeRecordsForExportLines(['{"Item":{"id":{"S":"ok"}}}'], { name: 'Visits' }, full);
    expect(good.ok[0]!.partitions).toEqual([
      ['year', '2024'],
      ['month', '03'],
      ['day', '01'],
    ]);
  });

  it('exportIdOf takes the last segment of an export ARN', () => {
    expect(exportIdOf('arn:aws:dynamodb:us-east-1:1:table/Visits/export/01700000000000-abcd1234')).toBe(
      '01700000000000-abcd1234',
    );
    expect(() => exportIdOf('arn:aws:dynamodb:us-east-1:1:table/Visits')).toThrow(RangeError);
  });
});
