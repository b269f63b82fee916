import { describe, expect, it } from 'vitest';
import {
  CODE_SYSTEMS,
  DEFAULT_NOW,
  estimateResources,
  InvalidSeedOptionsError,
  directoryResources,
  generateDirectory,
  generatePopulation,
  type FhirResource,
  type TransactionBundle,
} from '../../../src/synthetic/index.js';
import { collectReferences, collectSystems, resourcesOf, take, type Loose } from './bundle-helpers.js';

const population = (options: Partial<Parameters<typeof generatePopulation>[0]> = {}): TransactionBundle[] => [
  ...generatePopulation({ patients: 25, seed: 42, ...options }),
];

describe('generatePopulation', () => {
  it('is deterministic: the same seed gives identical output', () => {
    expect(JSON.stringify(population())).toBe(JSON.stringify(population()));
    expect(JSON.stringify(population({ seed: 'abc' }))).toBe(JSON.stringify(population({ seed: 'abc' })));
  });

  it('gives different output for a different seed', () => {
    const a = population({ seed: 1 });
    const b = population({ seed: 2 });
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    const names = (bundles: TransactionBundle[]) =>
      bundles.map((b) => JSON.stringify(resourcesOf(b, 'Patient')[0]?.name));
    expect(names(a)).not.toEqual(names(b));
  });

  it('yields lazily: the first of 100k (or a billion) patients comes without generating the rest', () => {
    const iterator = generatePopulation({ patients: 100_000, seed: 9 })[Symbol.iterator]();
    const first = iterator.next();
    expect(first.done).toBe(false);
    expect(resourcesOf(first.value as TransactionBundle, 'Patient')[0]?.id).toBe('p-000000');
    // A population too large to ever hold in memory still yields its first bundle.
    const huge = generatePopulation({ patients: 1_000_000_000, seed: 9 })[Symbol.iterator]();
    expect(huge.next().done).toBe(false);
    iterator.return?.(undefined);
    huge.return?.(undefined);
  });

  it('generates one patient per bundle in shards that match the whole', () => {
    const whole = population({ patients: 10 });
    const shard = [...generatePopulation({ patients: 4, seed: 42, firstPatient: 6 })];
    expect(JSON.stringify(shard)).toBe(JSON.stringify(whole.slice(6)));
    expect(whole.map((b) => resourcesOf(b, 'Patient').length)).toEqual(Array(10).fill(1));
  });

  it('builds transaction bundles of PUTs with deterministic ids and unique urn:uuid fullUrls', () => {
    for (const bundle of population()) {
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'transaction' });
      const fullUrls = bundle.entry.map((e) => e.fullUrl);
      expect(new Set(fullUrls).size).toBe(fullUrls.length);
      for (const entry of bundle.entry) {
        expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(entry.request).toEqual({ method: 'PUT', url: `${entry.resource.resourceType}/${entry.resource.id}` });
        expect(entry.resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      }
      const patient = resourcesOf(bundle, 'Patient')[0] as FhirResource & { id: string };
      const obsIds = resourcesOf(bundle, 'Observation').map((o) => o.id);
      expect(obsIds.every((id) => id?.startsWith(`obs-${patient.id}-`))).toBe(true);
    }
  });

  it('uses POST without ids when asked, keeping urn:uuid references', () => {
    const [bundle] = population({ patients: 1, method: 'POST' });
    for (const entry of bundle!.entry) {
      expect(entry.request).toEqual({ method: 'POST', url: entry.resource.resourceType });
      expect(entry.resource.id).toBeUndefined();
    }
    const fullUrls = new Set(bundle!.entry.map((e) => e.fullUrl));
    const internal = collectReferences(bundle!.entry.map((e) => e.resource)).filter((r) => r.startsWith('urn:'));
    expect(internal.length).toBeGreaterThan(0);
    for (const reference of internal) expect(fullUrls.has(reference)).toBe(true);
  });

  it('resolves every reference to an entry fullUrl or a directory resource', () => {
    const directoryIds = new Set(directoryResources().map((r) => `${r.resourceType}/${r.id}`));
    let checked = 0;
    for (const bundle of population({ patients: 40 })) {
      const fullUrls = new Map(bundle.entry.map((e) => [e.fullUrl, e.resource.resourceType]));
      for (const entry of bundle.entry) {
        for (const reference of collectReferences(entry.resource)) {
          checked++;
          if (reference.startsWith('urn:uuid:')) expect(fullUrls.has(reference), reference).toBe(true);
          else expect(directoryIds.has(reference), reference).toBe(true);
        }
      }
      // Typed targets: subject → Patient, encounter → Encounter.
      for (const entry of bundle.entry) {
        const resource = entry.resource as { subject?: { reference: string }; encounter?: { reference: string } };
        if (resource.subject) expect(fullUrls.get(resource.subject.reference)).toBe('Patient');
        if (resource.encounter) expect(fullUrls.get(resource.encounter.reference)).toBe('Encounter');
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('loads the directory with PUT and stable ids, independent of the seed', () => {
    const directory = generateDirectory();
    expect(directory.type).toBe('transaction');
    expect(directory.entry.every((e) => e.request.method === 'PUT')).toBe(true);
    expect(directory.entry.map((e) => e.request.url)).toContain('Practitioner/pr-001');
    expect(directory.entry.map((e) => e.request.url)).toContain('Organization/org-001');
    expect(JSON.stringify(generateDirectory())).toBe(JSON.stringify(directory));
  });

  it('uses LOINC, UCUM, SNOMED and RxNorm codes with the expected categories', () => {
    const bundles = population({ patients: 60 });
    const systems = collectSystems(bundles);
    for (const system of [
      CODE_SYSTEMS.loinc,
      CODE_SYSTEMS.ucum,
      CODE_SYSTEMS.snomed,
      CODE_SYSTEMS.rxnorm,
      CODE_SYSTEMS.patientId,
    ]) {
      expect(systems.has(system), system).toBe(true);
    }
    const observations = bundles.flatMap((b) => resourcesOf(b, 'Observation')) as Array<Record<string, Loose>>;
    const byCode = new Map<string, Record<string, Loose>>();
    for (const obs of observations) byCode.set(obs.code.coding[0].code, obs);
    for (const [code, unit] of [
      ['8867-4', '/min'],
      ['29463-7', 'kg'],
      ['8302-2', 'cm'],
      ['39156-5', 'kg/m2'],
      ['8310-5', 'Cel'],
      ['2339-0', 'mg/dL'],
      ['2093-3', 'mg/dL'],
      ['4548-4', '%'],
      ['718-7', 'g/dL'],
    ] as const) {
      const obs = byCode.get(code);
      expect(obs, code).toBeDefined();
      expect(obs!.valueQuantity).toMatchObject({ system: CODE_SYSTEMS.ucum, code: unit, unit });
      expect(typeof obs!.valueQuantity.value).toBe('number');
    }
    const bp = byCode.get('85354-9')!;
    expect(bp.component.map((c: Loose) => [c.code.coding[0].code, c.valueQuantity.code])).toEqual([
      ['8480-6', 'mm[Hg]'],
      ['8462-4', 'mm[Hg]'],
    ]);
    expect(bp.component[0].valueQuantity.value).toBeGreaterThan(bp.component[1].valueQuantity.value);
    expect(byCode.get('8867-4')!.category[0].coding[0].code).toBe('vital-signs');
    expect(byCode.get('2339-0')!.category[0].coding[0].code).toBe('laboratory');
    const conditions = bundles.flatMap((b) => resourcesOf(b, 'Condition')) as Array<Record<string, Loose>>;
    const medications = bundles.flatMap((b) => resourcesOf(b, 'MedicationRequest')) as Array<Record<string, Loose>>;
    expect(conditions.length).toBeGreaterThan(0);
    expect(medications.length).toBe(conditions.length);
    expect(new Set(conditions.map((c) => c.code.coding[0].code))).toContain('38341003');
    for (const med of medications) {
      expect(med.medicationCodeableConcept.coding[0].system).toBe(CODE_SYSTEMS.rxnorm);
      expect(med.requester.reference).toMatch(/^Practitioner\/pr-\d{3}$/);
      expect(med.intent).toBe('order');
    }
    const encounters = bundles.flatMap((b) => resourcesOf(b, 'Encounter')) as Array<Record<string, Loose>>;
    expect(new Set(encounters.map((e) => e.class.code))).toEqual(new Set(['AMB', 'EMER', 'IMP']));
    for (const encounter of encounters) {
      expect(encounter.type[0].coding[0].system).toBe(CODE_SYSTEMS.snomed);
      expect(encounter.serviceProvider.reference).toMatch(/^Organization\/org-\d{3}$/);
      expect(encounter.participant[0].individual.reference).toMatch(/^Practitioner\/pr-\d{3}$/);
    }
  });

  it('keeps dates consistent: within the lifetime, the window and the encounter period', () => {
    const now = new Date('2024-06-30T00:00:00Z');
    const startYear = 2016;
    for (const bundle of population({ patients: 60, now, startYear })) {
      const patient = resourcesOf(bundle, 'Patient')[0] as Record<string, Loose>;
      const birth = Date.parse(patient.birthDate);
      expect(birth).toBeGreaterThanOrEqual(Date.parse('1930-01-01'));
      expect(birth).toBeLessThanOrEqual(Date.parse('2020-12-31'));
      const periods = new Map<string, [number, number]>();
      for (const entry of bundle.entry) {
        if (entry.resource.resourceType !== 'Encounter') continue;
        const period = (entry.resource as Loose).period;
        const start = Date.parse(period.start);
        const end = Date.parse(period.end);
        expect(start).toBeGreaterThan(birth);
        expect(start).toBeGreaterThanOrEqual(Date.UTC(startYear, 0, 1));
        expect(end).toBeGreaterThan(start);
        expect(end).toBeLessThanOrEqual(now.getTime());
        periods.set(entry.fullUrl, [start, end]);
      }
      const within = (reference: string, iso: string) => {
        const [start, end] = periods.get(reference)!;
        const at = Date.parse(iso);
        expect(at).toBeGreaterThanOrEqual(start);
        expect(at).toBeLessThanOrEqual(end);
      };
      for (const obs of resourcesOf(bundle, 'Observation') as Loose[])
        within(obs.encounter.reference, obs.effectiveDateTime);
      for (const med of resourcesOf(bundle, 'MedicationRequest') as Loose[])
        within(med.encounter.reference, med.authoredOn);
      for (const condition of resourcesOf(bundle, 'Condition') as Loose[]) {
        within(condition.encounter.reference, condition.onsetDateTime);
        if (condition.abatementDateTime) {
          expect(Date.parse(condition.abatementDateTime)).toBeGreaterThan(Date.parse(condition.onsetDateTime));
          expect(Date.parse(condition.abatementDateTime)).toBeLessThanOrEqual(now.getTime());
          expect(condition.clinicalStatus.coding[0].code).toBe('resolved');
        }
      }
    }
  });

  it('defaults to a fixed "now" so output does not depend on the day', () => {
    for (const bundle of population()) {
      for (const encounter of resourcesOf(bundle, 'Encounter') as Loose[]) {
        expect(Date.parse(encounter.period.end)).toBeLessThanOrEqual(DEFAULT_NOW.getTime());
      }
    }
  });

  it('produces roughly 20–60 resources per patient by default, and is controllable', () => {
    const sizes = population({ patients: 200 }).map((b) => b.entry.length);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThanOrEqual(20);
    expect(mean).toBeLessThanOrEqual(60);
    const small = population({ patients: 20, encountersPerPatient: { min: 0, max: 0 } });
    expect(small.every((b) => b.entry.length === 1)).toBe(true);
    const large = population({ patients: 20, encountersPerPatient: { min: 10, max: 10 } });
    expect(large.every((b) => resourcesOf(b, 'Encounter').length === 10)).toBe(true);
  });

  it('estimates the resource count closely enough to size benchmarks', () => {
    const actual = population({ patients: 500 }).reduce((sum, b) => sum + b.entry.length, 0);
    const estimate = estimateResources({ patients: 500, seed: 42 });
    expect(Math.abs(estimate - actual) / actual).toBeLessThan(0.1);
  });

  it('includes some non-ASCII names', () => {
    const names = population({ patients: 200 }).map((b) =>
      JSON.stringify((resourcesOf(b, 'Patient')[0] as Loose).name),
    );
    expect(names.some((name) => /[^ -~]/.test(JSON.parse(name)[0].family + JSON.parse(name)[0].given.join('')))).toBe(
      true,
    );
  });

  it('rejects impossible options with a clear error', () => {
    expect(() => take(generatePopulation({ patients: -1, seed: 1 }), 1)).toThrow(InvalidSeedOptionsError);
    expect(() => take(generatePopulation({ patients: 1.5, seed: 1 }), 1)).toThrow(/whole number/);
    expect(() => take(generatePopulation({ patients: 1, seed: 1, startYear: 2020, endYear: 2010 }), 1)).toThrow(
      /startYear/,
    );
    expect(() =>
      take(generatePopulation({ patients: 1, seed: 1, encountersPerPatient: { min: 3, max: 1 } }), 1),
    ).toThrow(/encountersPerPatient/);
  });
});
