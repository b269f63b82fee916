import {
  CITIES,
  CONDITION_KEYS,
  CONDITIONS,
  FAMILY_NAMES,
  FEMALE_GIVEN_NAMES,
  MALE_GIVEN_NAMES,
  STREET_NAMES,
  type ConditionKey,
  type EncounterKind,
  type LabKey,
} from './catalog.js';
import { ORGANIZATION_COUNT, PRACTITIONER_COUNT } from './directory.js';
import type { ResolvedPopulationOptions } from './options.js';
import { createRandom, mixSeed, type Random } from './prng.js';

/**
 * Everything about one synthetic patient as plain data. Both the FHIR bundle and the
 * DynamoDB domain records are rendered from the same plan, so they always agree.
 */
export interface PatientPlan {
  index: number;
  id: string;
  sex: 'male' | 'female';
  given: string;
  middle?: string;
  family: string;
  /** Birth date, epoch ms at UTC midnight. */
  birth: number;
  address: { line1: string; line2?: string; city: string; state: string; postalCode: string };
  phone: string;
  email: string;
  encounters: EncounterPlan[];
  conditions: ConditionPlan[];
  medications: MedicationPlan[];
}

export interface EncounterPlan {
  /** 1-based position in the patient's history. */
  n: number;
  kind: EncounterKind;
  start: number;
  end: number;
  /** 1-based directory numbers. */
  practitioner: number;
  organization: number;
  reason: string;
  /** Condition diagnosed at this encounter, if any. */
  diagnosis?: ConditionKey;
  vitals: VitalsPlan;
  labs: Array<{ key: LabKey; value: number; at: number }>;
}

export interface VitalsPlan {
  at: number;
  heartRate: number;
  systolic: number;
  diastolic: number;
  weightKg: number;
  heightCm: number;
  bmi: number;
  temperatureC: number;
}

export interface ConditionPlan {
  n: number;
  key: ConditionKey;
  encounter: number;
  onset: number;
  abatement?: number;
}

export interface MedicationPlan {
  n: number;
  condition: number;
  key: ConditionKey;
  encounter: number;
  authoredOn: number;
  practitioner: number;
  status: 'active' | 'completed';
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const YEAR = 365.25 * DAY;
const BIRTH_FROM = Date.UTC(1930, 0, 1);
const BIRTH_TO = Date.UTC(2020, 11, 31);
/** Longest encounter (inpatient, 7 days) plus slack, so encounters end before the window does. */
const LONGEST_ENCOUNTER = 8 * DAY;

const REASONS: Record<EncounterKind, readonly string[]> = {
  ambulatory: ['Routine check-up', 'Follow-up visit', 'Medication review', 'Vaccination visit', 'Annual physical'],
  emergency: ['Chest pain', 'Shortness of breath', 'Fall injury', 'High fever', 'Abdominal pain'],
  inpatient: ['Pneumonia admission', 'Post-surgical observation', 'Cardiac monitoring', 'Dehydration treatment'],
};

/**
 * Formats a patient id from its index: `p-000123`.
 *
 * @example
 * patientId(123); // 'p-000123'
 */
export function patientId(index: number): string {
  return `p-${String(index).padStart(6, '0')}`;
}

const round = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** ASCII local part for an email address; non-Latin names fall back to the patient id. */
const emailLocalPart = (given: string, family: string, id: string): string => {
  const ascii = (text: string): string =>
    text
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[đĐ]/g, 'd')
      .replace(/[łŁ]/g, 'l')
      .replace(/ø/g, 'o')
      .replace(/[^A-Za-z]/g, '')
      .toLowerCase();
  const first = ascii(given);
  const last = ascii(family);
  return first && last ? `${first}.${last}.${id.slice(2)}` : `patient.${id.slice(2)}`;
};

/**
 * Plans one patient deterministically from `(seed, index)`: the same inputs always
 * give the same plan, independent of any other patient.
 *
 * @example
 * const plan = planPatient(resolvePopulationOptions({ patients: 1, seed: 1 }), 0);
 */
export function planPatient(options: ResolvedPopulationOptions, index: number): PatientPlan {
  const random = createRandom(mixSeed(options.seed, 'patient', index));
  const id = patientId(index);
  const sex = random.chance(0.5) ? 'female' : 'male';
  const given = random.pick(sex === 'female' ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES);
  const middle = random.chance(0.4) ? random.pick(sex === 'female' ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES) : undefined;
  const family = random.pick(FAMILY_NAMES);
  const latestBirth = Math.min(BIRTH_TO, options.windowEnd - YEAR);
  const birth = Math.floor((BIRTH_FROM + random.next() * (latestBirth - BIRTH_FROM)) / DAY) * DAY;
  const place = random.pick(CITIES);
  const line2 = random.chance(0.25) ? `Apt ${random.int(1, 40)}${random.pick(['A', 'B', 'C'])}` : undefined;
  const address = {
    line1: `${random.int(1, 9999)} ${random.pick(STREET_NAMES)}`,
    ...(line2 ? { line2 } : {}),
    city: place.city,
    state: place.state,
    postalCode: `${place.zip}${String(random.int(0, 99)).padStart(2, '0')}`,
  };
  const phone = `${random.int(201, 989)}-555-${String(random.int(0, 9999)).padStart(4, '0')}`;
  const email = `${emailLocalPart(given, family, id)}@example.org`;

  const adultHeight = sex === 'male' ? random.normal(176, 7) : random.normal(163, 6.5);
  const baselineBmi = clamp(random.normal(27, 4.5), 17.5, 45);
  const homeOrganization = random.int(1, ORGANIZATION_COUNT);
  const primaryPractitioner = random.int(1, PRACTITIONER_COUNT);

  const encounters = planEncounters(random, options, birth, homeOrganization, primaryPractitioner);
  const conditions = planConditions(random, encounters, birth, options.windowEnd);
  for (const condition of conditions) {
    const encounter = encounters[condition.encounter - 1];
    if (encounter) {
      encounter.diagnosis = condition.key;
      encounter.reason = CONDITIONS[condition.key].display.replace(/ \(disorder\)$/, '');
    }
  }
  for (const encounter of encounters) {
    const active = conditions
      .filter((c) => c.onset <= encounter.start && (c.abatement === undefined || c.abatement > encounter.start))
      .map((c) => c.key);
    const age = (encounter.start - birth) / YEAR;
    encounter.vitals = planVitals(random, encounter, age, sex, adultHeight, baselineBmi, active);
    encounter.labs = planLabs(random, encounter, age, sex, active);
  }
  const medications: MedicationPlan[] = conditions.map((condition, i) => {
    const encounter = encounters[condition.encounter - 1] as EncounterPlan;
    return {
      n: i + 1,
      condition: condition.n,
      key: condition.key,
      encounter: encounter.n,
      authoredOn: Math.min(encounter.end, encounter.start + random.int(10, 15) * MINUTE),
      practitioner: encounter.practitioner,
      status: CONDITIONS[condition.key].chronic ? 'active' : 'completed',
    };
  });

  return {
    index,
    id,
    sex,
    given,
    ...(middle ? { middle } : {}),
    family,
    birth,
    address,
    phone,
    email,
    encounters,
    conditions,
    medications,
  };
}

function planEncounters(
  random: Random,
  options: ResolvedPopulationOptions,
  birth: number,
  homeOrganization: number,
  primaryPractitioner: number,
): EncounterPlan[] {
  const count = random.int(options.encounters.min, options.encounters.max);
  const earliest = Math.max(options.windowStart, birth + DAY);
  const latest = options.windowEnd - LONGEST_ENCOUNTER;
  if (latest <= earliest) return [];
  const encounters: EncounterPlan[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random.next();
    const kind: EncounterKind = roll < 0.75 ? 'ambulatory' : roll < 0.9 ? 'emergency' : 'inpatient';
    const day = Math.floor((earliest + random.next() * (latest - earliest)) / DAY) * DAY;
    const startMinute = kind === 'ambulatory' ? random.int(8 * 60, 17 * 60) : random.int(0, 24 * 60 - 1);
    const start = Math.max(earliest, day + startMinute * MINUTE);
    const minutes =
      kind === 'ambulatory'
        ? random.int(20, 60)
        : kind === 'emergency'
          ? random.int(90, 8 * 60)
          : random.int(1, 7) * 24 * 60 + random.int(0, 600);
    const practitioner =
      kind === 'ambulatory' && random.chance(0.7) ? primaryPractitioner : random.int(1, PRACTITIONER_COUNT);
    const organization = kind === 'ambulatory' ? homeOrganization : random.int(1, ORGANIZATION_COUNT);
    encounters.push({
      n: 0,
      kind,
      start,
      end: start + minutes * MINUTE,
      practitioner,
      organization,
      reason: random.pick(REASONS[kind]),
      vitals: undefined as unknown as VitalsPlan,
      labs: [],
    });
  }
  encounters.sort((a, b) => a.start - b.start);
  encounters.forEach((encounter, i) => (encounter.n = i + 1));
  return encounters;
}

function planConditions(
  random: Random,
  encounters: EncounterPlan[],
  birth: number,
  windowEnd: number,
): ConditionPlan[] {
  const conditions: ConditionPlan[] = [];
  const used = new Set<number>();
  for (const key of CONDITION_KEYS) {
    const definition = CONDITIONS[key];
    const has = random.chance(definition.prevalence);
    const candidates = encounters.filter((e) => (e.start - birth) / YEAR >= definition.minAge && !used.has(e.n));
    const pickIndex = random.int(0, Math.max(0, candidates.length - 1));
    const encounter = candidates[pickIndex];
    if (!has || !encounter) continue;
    used.add(encounter.n);
    const abatement = definition.chronic ? undefined : Math.min(windowEnd, encounter.start + random.int(10, 30) * DAY);
    conditions.push({
      n: 0,
      key,
      encounter: encounter.n,
      onset: encounter.start,
      ...(abatement !== undefined ? { abatement } : {}),
    });
  }
  conditions.sort((a, b) => a.onset - b.onset);
  conditions.forEach((condition, i) => (condition.n = i + 1));
  return conditions;
}

function planVitals(
  random: Random,
  encounter: EncounterPlan,
  age: number,
  sex: 'male' | 'female',
  adultHeight: number,
  baselineBmi: number,
  active: ConditionKey[],
): VitalsPlan {
  const growth = age >= 18 ? 1 : Math.pow(Math.max(age, 0.05) / 18, 0.6);
  const heightCm = round(50 + (adultHeight - 50) * growth, 1);
  const targetBmi = age >= 18 ? baselineBmi : 15.5 + (baselineBmi - 15.5) * (age / 18) * 0.6;
  const weightKg = round(clamp(targetBmi * (1 + random.normal(0, 0.02)) * (heightCm / 100) ** 2, 2.5, 250), 1);
  const bmi = round(weightKg / (heightCm / 100) ** 2, 1);
  const hypertensive = active.includes('hypertension');
  const diastolic = Math.round(clamp(random.normal(76, 7) + (hypertensive ? 10 : 0) - (age < 12 ? 12 : 0), 45, 120));
  const systolic = Math.round(
    clamp(random.normal(112 + Math.max(0, age - 20) * 0.3, 10) + (hypertensive ? 20 : 0), diastolic + 20, 210),
  );
  const heartRate = Math.round(
    clamp(random.normal(74 + (age < 10 ? 18 : 0) + (encounter.kind === 'emergency' ? 10 : 0), 9), 45, 170),
  );
  const fever = encounter.kind !== 'ambulatory' && random.chance(0.3);
  const temperatureC = round(fever ? random.float(38, 39.6) : clamp(random.normal(36.8, 0.25), 35.8, 37.6), 1);
  const at = Math.min(encounter.end, encounter.start + 5 * MINUTE);
  return { at, heartRate, systolic, diastolic, weightKg, heightCm, bmi, temperatureC };
}

function planLabs(
  random: Random,
  encounter: EncounterPlan,
  age: number,
  sex: 'male' | 'female',
  active: ConditionKey[],
): EncounterPlan['labs'] {
  const at = Math.min(encounter.end, encounter.start + 15 * MINUTE);
  const diabetic = active.includes('diabetes') || encounter.diagnosis === 'diabetes';
  const ordered = age >= 12 && encounter.kind !== 'emergency' ? random.chance(0.6) || diabetic : random.chance(0.2);
  if (!ordered) return [];
  const labs: EncounterPlan['labs'] = [];
  if (diabetic || random.chance(0.5))
    labs.push({
      key: 'glucose',
      value: round(clamp(diabetic ? random.normal(165, 35) : random.normal(94, 11), 55, 450), 0),
      at,
    });
  if (random.chance(0.5) || active.includes('hyperlipidemia')) {
    labs.push({
      key: 'cholesterol',
      value: round(
        clamp(active.includes('hyperlipidemia') ? random.normal(245, 30) : random.normal(185, 28), 100, 400),
        0,
      ),
      at,
    });
  }
  if (diabetic || random.chance(0.2))
    labs.push({
      key: 'hba1c',
      value: round(clamp(diabetic ? random.normal(7.8, 1.1) : random.normal(5.4, 0.3), 4, 14), 1),
      at,
    });
  if (random.chance(0.4) || active.includes('anemia')) {
    const mean = active.includes('anemia') ? 10.2 : sex === 'male' ? 15 : 13.6;
    labs.push({ key: 'hemoglobin', value: round(clamp(random.normal(mean, 0.9), 6, 19), 1), at });
  }
  return labs;
}
