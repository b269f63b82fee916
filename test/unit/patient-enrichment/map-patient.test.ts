import { describe, expect, it } from 'vitest';
import {
  PatientValidationError,
  parseDomainPatient,
  toFhirPatient,
  validatePatient,
  type FhirPatient,
  type PatientMappingOptions,
} from '../../../src/patient-enrichment/index.js';
import { domainPatient, expectValidFhirPatient, PHI_VALUES } from './fixtures.js';

const fixedClock = { now: () => new Date('2025-06-15T12:00:00Z') };

/** Maps and FHIR-validates every produced resource: a test fails if the mapping emits invalid FHIR. */
async function map(item: unknown, options: PatientMappingOptions = {}): Promise<FhirPatient> {
  const patient = toFhirPatient(parseDomainPatient(item), { clock: fixedClock, ...options });
  await expectValidFhirPatient(patient);
  return patient;
}

function problemsOf(run: () => unknown): PatientValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatientValidationError) return error;
    throw error;
  }
  throw new Error('expected a PatientValidationError');
}

describe('domain patient → FHIR R4 Patient', () => {
  it('maps every field', async () => {
    expect(await map(domainPatient())).toEqual({
      resourceType: 'Patient',
      id: 'p-123',
      identifier: [{ system: 'urn:tributary:patient-id', value: 'p-123' }],
      name: [{ use: 'official', family: 'Dravenhart', given: ['Jolene', 'Quinta'] }],
      birthDate: '1991-07-13',
      gender: 'female',
      address: [
        { use: 'home', line: ['12 Larkspur Lane', 'Apt 4'], city: 'Springfield', state: 'IL', postalCode: '62704' },
      ],
      telecom: [
        { system: 'phone', value: '+1-555-0100', use: 'home' },
        { system: 'email', value: 'jolene@example.org' },
      ],
    });
  });

  it('maps the minimal reference-design record, omitting absent optional fields', async () => {
    const item = {
      id: '123',
      firstName: 'Ann',
      lastName: 'Lee',
      birthDate: '07-13-1991',
      address: { address1: '1 Main St', city: 'Boston', state: 'MA', postalCode: '02110' },
    };
    const patient = await map(item);
    expect(patient.name).toEqual([{ use: 'official', family: 'Lee', given: ['Ann'] }]);
    expect(patient.address[0]?.line).toEqual(['1 Main St']);
    expect(patient).not.toHaveProperty('telecom');
    expect(patient).not.toHaveProperty('gender');
  });

  it('treats blank and null optional fields as absent and trims text', async () => {
    const patient = await map(
      domainPatient({
        firstName: '  Jolene ',
        middleName: '   ',
        phone: null,
        email: '',
        gender: ' ',
        address: {
          address1: ' 12 Larkspur Lane',
          address2: '',
          city: 'Springfield ',
          state: 'IL',
          postalCode: '62704',
        },
      }),
    );
    expect(patient.name[0]?.given).toEqual(['Jolene']);
    expect(patient.address[0]?.line).toEqual(['12 Larkspur Lane']);
    expect(patient.address[0]?.city).toBe('Springfield');
    expect(patient).not.toHaveProperty('telecom');
    expect(patient).not.toHaveProperty('gender');
  });

  it('keeps only an email when there is no phone', async () => {
    const patient = await map(domainPatient({ phone: undefined }));
    expect(patient.telecom).toEqual([{ system: 'email', value: 'jolene@example.org' }]);
  });

  it.each([
    ['Zoë', 'Ångström'],
    ['Łukasz', 'Żółć'],
    ['太郎', '山田'],
    ['Nguyễn', 'Thị'],
    ['José-María', "O'Brien"],
  ])('keeps unicode names intact: %s %s', async (first, last) => {
    const patient = await map(domainPatient({ firstName: first, lastName: last, middleName: undefined }));
    expect(patient.name[0]).toEqual({ use: 'official', family: last, given: [first] });
  });

  it('uses a configured identifier system', async () => {
    const patient = await map(domainPatient(), { identifierSystem: 'urn:oid:1.2.3.4' });
    expect(patient.identifier).toEqual([{ system: 'urn:oid:1.2.3.4', value: 'p-123' }]);
  });

  it.each([
    ['M', 'male'],
    ['female', 'female'],
    ['x', 'other'],
    ['non-binary', 'other'],
    ['unknown', 'unknown'],
  ])('maps gender %j to %s', async (gender, expected) => {
    expect((await map(domainPatient({ gender }))).gender).toBe(expected);
  });

  it('rejects an unmappable gender by default, or maps it to unknown when configured', async () => {
    expect(problemsOf(() => toFhirPatient(parseDomainPatient(domainPatient({ gender: 'zebra' })))).problems).toEqual([
      { field: 'gender', problem: 'not a recognised gender' },
    ]);
    expect((await map(domainPatient({ gender: 'zebra' }), { unmappableGender: 'unknown' })).gender).toBe('unknown');
  });

  it.each([
    ['02-29-2024', '2024-02-29'],
    ['2-9-2001', '2001-02-09'],
    [' 12-31-1999 ', '1999-12-31'],
  ])('converts birth date %j to %s', async (birthDate, expected) => {
    expect((await map(domainPatient({ birthDate }))).birthDate).toBe(expected);
  });

  it.each(['02-29-2023', '13-01-2020', '00-10-2020', '02-30-2024', '01-01-0000', '1991-07-13'])(
    'rejects birth date %j',
    (birthDate) => {
      const error = problemsOf(() =>
        toFhirPatient(parseDomainPatient(domainPatient({ birthDate })), { clock: fixedClock }),
      );
      expect(error.problems.map((p) => p.field)).toEqual(['birthDate']);
      expect(error.message).not.toContain(birthDate);
    },
  );

  it('rejects a future birth date unless configured otherwise', async () => {
    const future = domainPatient({ birthDate: '06-16-2025' });
    expect(() => toFhirPatient(parseDomainPatient(future), { clock: fixedClock })).toThrow(
      /birthDate \(date is in the future\)/,
    );
    expect((await map(domainPatient({ birthDate: '06-15-2025' }))).birthDate).toBe('2025-06-15');
    expect((await map(future, { rejectFutureBirthDates: false })).birthDate).toBe('2025-06-16');
  });

  it('reports every invalid mapped field at once', () => {
    const error = problemsOf(() =>
      toFhirPatient(parseDomainPatient(domainPatient({ birthDate: '02-30-2020', gender: 'zebra' })), {
        clock: fixedClock,
      }),
    );
    expect(error.problems.map((p) => p.field)).toEqual(['birthDate', 'gender']);
  });

  it.each([
    ['id', { id: undefined }, 'id', 'required'],
    ['firstName', { firstName: undefined }, 'firstName', 'required'],
    ['lastName', { lastName: '' }, 'lastName', 'must not be empty'],
    ['birthDate', { birthDate: undefined }, 'birthDate', 'required'],
    ['address', { address: undefined }, 'address', 'required'],
    ['address.city', { address: { address1: 'a', state: 'IL', postalCode: '1' } }, 'address.city', 'required'],
    [
      'address.postalCode as number',
      { address: { address1: 'a', city: 'c', state: 'IL', postalCode: 62704 } },
      'address.postalCode',
      'expected string',
    ],
    ['firstName as number', { firstName: 42 }, 'firstName', 'expected string'],
    ['email', { email: 'not-an-email' }, 'email', 'not an email address'],
    ['id not a FHIR id', { id: 'a/b' }, 'id', 'must be a FHIR id (1-64 of A-Z a-z 0-9 - .)'],
  ])('reports a missing or invalid %s by field name', (_label, overrides, field, problem) => {
    const error = problemsOf(() => parseDomainPatient(domainPatient(overrides)));
    expect(error.problems).toContainEqual({ field, problem });
  });

  it('lists all missing fields and never echoes values', () => {
    const error = problemsOf(() => parseDomainPatient({ id: 'p-1', firstName: 'Jolene', email: 'bad email@x' }));
    expect(error.problems.map((p) => p.field).sort()).toEqual(['address', 'birthDate', 'email', 'lastName']);
    for (const value of PHI_VALUES) expect(error.message).not.toContain(value);
    expect(error.message).not.toContain('bad email');
  });

  it('rejects a record that is not an object', () => {
    expect(problemsOf(() => parseDomainPatient('Jolene')).problems).toEqual([
      { field: '(record)', problem: 'expected object' },
    ]);
  });
});

describe('validatePatient (FHIR R4 definitions)', () => {
  it('accepts a mapped Patient', async () => {
    await expectValidFhirPatient(toFhirPatient(parseDomainPatient(domainPatient()), { clock: fixedClock }));
  });

  it.each([
    ['a non-FHIR date format', { birthDate: '07-13-1991' }, 'Patient.birthDate'],
    ['an unknown element', { nickname: 'Jo' }, 'Patient.nickname'],
    ['a wrongly typed element', { name: 'Jolene Dravenhart' }, 'Patient.name'],
  ])('rejects a Patient with %s, reporting the path but not the value', async (_label, change, expression) => {
    const valid = toFhirPatient(parseDomainPatient(domainPatient()), { clock: fixedClock });
    const result = await validatePatient({ ...valid, ...change });
    expect(result.valid).toBe(false);
    expect(result.issues.map((issue) => issue.expression)).toContain(expression);
    expect(JSON.stringify(result)).not.toContain('Jolene');
    expect(JSON.stringify(result)).not.toContain('07-13-1991');
  });

  it('rejects something that is not a Patient', async () => {
    expect((await validatePatient({ resourceType: 'Observation', id: 'o1' })).valid).toBe(false);
    expect((await validatePatient(null)).valid).toBe(false);
  });
});
