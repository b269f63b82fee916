import { describe, expect, it } from 'vitest';
import { enrichPatientBatch, maskedPatientSummary } from '../../../src/patient-enrichment/index.js';
import { domainPatient, PHI_VALUES, streamRecord } from './fixtures.js';

const clock = { now: () => new Date('2025-06-15T12:00:00Z') };

describe('maskedPatientSummary', () => {
  it('shows id and command with initials and a masked birth date', async () => {
    const { events } = await enrichPatientBatch(
      [streamRecord('INSERT', domainPatient({ firstName: 'John', middleName: undefined, lastName: 'Doe' }))],
      { clock },
    );
    expect(maskedPatientSummary(events[0]!)).toBe('PUT Patient/p-123 name=J*** D*** birthDate=****-**-**');
  });

  it('never contains the name, birth date or address', async () => {
    const { events } = await enrichPatientBatch([streamRecord('INSERT', domainPatient())], { clock });
    const summary = maskedPatientSummary(events[0]!);
    for (const value of PHI_VALUES) expect(summary).not.toContain(value);
    expect(summary).toBe('PUT Patient/p-123 name=J*** Q*** D*** birthDate=****-**-**');
  });

  it('masks non-Latin names by whole characters', async () => {
    const { events } = await enrichPatientBatch(
      [streamRecord('INSERT', domainPatient({ firstName: '太郎', middleName: undefined, lastName: '山田' }))],
      { clock },
    );
    expect(maskedPatientSummary(events[0]!)).toBe('PUT Patient/p-123 name=太*** 山*** birthDate=****-**-**');
  });

  it('summarises a delete by reference', async () => {
    const { events } = await enrichPatientBatch([streamRecord('REMOVE', domainPatient({ id: 'p-5' }))], { clock });
    expect(maskedPatientSummary(events[0]!)).toBe('DELETE Patient/p-5');
  });
});
