import { describe, expect, it } from 'vitest';
import { ExportWindowError, planExport } from '../../../src/backfill/export-window.js';

const T = (iso: string) => Date.parse(iso);
const pitr = { enabled: true, earliestMs: T('2024-03-01T00:00:00Z'), latestMs: T('2024-03-05T00:00:00Z') };

describe('planExport', () => {
  it('FULL: the last whole second at or before now (capped at the latest restorable time)', () => {
    expect(planExport({ mode: 'FULL', nowMs: T('2024-03-04T10:00:05.750Z'), pitr })).toEqual({
      exportType: 'FULL_EXPORT',
      exportTime: '2024-03-04T10:00:05.000Z',
    });
    expect(planExport({ mode: 'FULL', nowMs: T('2024-03-06T00:00:00.500Z'), pitr })).toMatchObject({
      exportTime: '2024-03-05T00:00:00.000Z',
    });
  });

  it('FULL: without a second of history, PitrNotReady (retryable); without PITR, PitrDisabled', () => {
    const now = T('2024-03-04T10:00:05.750Z');
    expect(() => planExport({ mode: 'FULL', nowMs: now, pitr: { enabled: true, earliestMs: now - 100 } })).toThrow(
      expect.objectContaining({ name: 'Backfill.PitrNotReady' }),
    );
    expect(() => planExport({ mode: 'FULL', nowMs: now, pitr: { enabled: false } })).toThrow(ExportWindowError);
  });

  it('INCREMENTAL: a window under 15 minutes has its start moved back', () => {
    expect(
      planExport({
        mode: 'INCREMENTAL',
        nowMs: T('2024-03-04T12:00:00Z'),
        pitr,
        fromMs: T('2024-03-04T10:00:00.400Z'),
        toMs: T('2024-03-04T10:05:00Z'),
      }),
    ).toEqual({
      exportType: 'INCREMENTAL_EXPORT',
      exportFromTime: '2024-03-04T09:50:00.000Z',
      exportToTime: '2024-03-04T10:05:00.000Z',
      widened: true,
    });
  });

  it('INCREMENTAL: the end defaults to (and is capped at) the latest restorable time', () => {
    expect(
      planExport({ mode: 'INCREMENTAL', nowMs: T('2024-03-06T00:00:00Z'), pitr, fromMs: T('2024-03-04T12:00:00Z') }),
    ).toMatchObject({ exportFromTime: '2024-03-04T12:00:00.000Z', exportToTime: '2024-03-05T00:00:00.000Z' });
  });

  it('INCREMENTAL: a window over 24 hours is cut, the rest returned as next', () => {
    expect(
      planExport({
        mode: 'INCREMENTAL',
        nowMs: T('2024-03-06T00:00:00Z'),
        pitr,
        fromMs: T('2024-03-02T00:00:00Z'),
        toMs: T('2024-03-03T06:00:00Z'),
      }),
    ).toEqual({
      exportType: 'INCREMENTAL_EXPORT',
      exportFromTime: '2024-03-02T00:00:00.000Z',
      exportToTime: '2024-03-03T00:00:00.000Z',
      widened: false,
      next: { exportFromTime: '2024-03-03T00:00:00.000Z', exportToTime: '2024-03-03T06:00:00.000Z' },
    });
  });

  it('INCREMENTAL: a start before the earliest restorable time, or no room to widen, is WindowUnavailable', () => {
    const now = T('2024-03-06T00:00:00Z');
    expect(() => planExport({ mode: 'INCREMENTAL', nowMs: now, pitr, fromMs: T('2024-02-28T00:00:00Z') })).toThrow(
      expect.objectContaining({ name: 'Backfill.WindowUnavailable' }),
    );
    expect(() =>
      planExport({
        mode: 'INCREMENTAL',
        nowMs: now,
        pitr,
        fromMs: T('2024-03-01T00:01:00Z'),
        toMs: T('2024-03-01T00:05:00Z'),
      }),
    ).toThrow(/at least 15 minutes/);
    expect(() =>
      planExport({
        mode: 'INCREMENTAL',
        nowMs: now,
        pitr,
        fromMs: T('2024-03-04T00:00:00Z'),
        toMs: T('2024-03-03T00:00:00Z'),
      }),
    ).toThrow(/is not before/);
  });
});
