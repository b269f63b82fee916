/**
 * Embedded reference lists the generator draws from: names, places and clinical codes.
 * Small on purpose; a few non-ASCII names exercise unicode handling downstream.
 */

/** Code system URIs used by generated resources. */
export const CODE_SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  ucum: 'http://unitsofmeasure.org',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  patientId: 'urn:tributary:patient-id',
  practitionerId: 'urn:tributary:practitioner-id',
  organizationId: 'urn:tributary:organization-id',
} as const;

export const MALE_GIVEN_NAMES = [
  'James',
  'John',
  'Robert',
  'Michael',
  'William',
  'David',
  'Joseph',
  'Thomas',
  'Daniel',
  'Matthew',
  'Anthony',
  'Mark',
  'Steven',
  'Andrew',
  'Joshua',
  'Kevin',
  'Brian',
  'George',
  'Samuel',
  'Omar',
  'Ahmed',
  'Hiroshi',
  'Carlos',
  'Luis',
  'Wei',
  'Raj',
  'Ivan',
  'Kwame',
  'José',
  'Björn',
  'Søren',
  'Łukasz',
  'François',
  'Jürgen',
  'Đức',
  'Sebastián',
] as const;

export const FEMALE_GIVEN_NAMES = [
  'Mary',
  'Patricia',
  'Jennifer',
  'Linda',
  'Elizabeth',
  'Barbara',
  'Susan',
  'Jessica',
  'Sarah',
  'Karen',
  'Lisa',
  'Nancy',
  'Emily',
  'Olivia',
  'Emma',
  'Ava',
  'Sophia',
  'Grace',
  'Fatima',
  'Aisha',
  'Yuki',
  'Mei',
  'Priya',
  'Amara',
  'Ingrid',
  'Ana',
  'Zoë',
  'Renée',
  'Chloé',
  'Inés',
  'Małgorzata',
  'Siobhán',
  'Ngọc',
  'Åsa',
] as const;

export const FAMILY_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Thompson',
  'White',
  'Harris',
  'Clark',
  'Lewis',
  'Walker',
  'Hall',
  'Young',
  "O'Brien",
  'Okafor',
  'Nakamura',
  'Kim',
  'Patel',
  'Chen',
  'Nguyen',
  'Cohen',
  'Kowalski',
  'Ivanova',
  'Müller',
  'Núñez',
  'Nguyễn',
  'Đặng',
  'Søndergaard',
  'Wójcik',
  'Peña',
  'Gonçalves',
  '王',
  '김',
] as const;

export const STREET_NAMES = [
  'Main St',
  'Oak Ave',
  'Maple Dr',
  'Cedar Ln',
  'Pine St',
  'Elm St',
  'Washington Blvd',
  'Lake Rd',
  'Hillcrest Dr',
  'Park Ave',
  'River Rd',
  'Sunset Blvd',
  'Church St',
  'Mill Rd',
  'Highland Ave',
] as const;

/** City, USPS state code and a 3-digit ZIP prefix that roughly fits the state. */
export const CITIES = [
  { city: 'Boston', state: 'MA', zip: '021' },
  { city: 'Worcester', state: 'MA', zip: '016' },
  { city: 'Springfield', state: 'MA', zip: '011' },
  { city: 'Seattle', state: 'WA', zip: '981' },
  { city: 'Spokane', state: 'WA', zip: '992' },
  { city: 'Austin', state: 'TX', zip: '787' },
  { city: 'Houston', state: 'TX', zip: '770' },
  { city: 'Denver', state: 'CO', zip: '802' },
  { city: 'Chicago', state: 'IL', zip: '606' },
  { city: 'Atlanta', state: 'GA', zip: '303' },
  { city: 'Phoenix', state: 'AZ', zip: '850' },
  { city: 'Portland', state: 'OR', zip: '972' },
  { city: 'Minneapolis', state: 'MN', zip: '554' },
  { city: 'San José', state: 'CA', zip: '951' },
] as const;

export const ORGANIZATION_NAMES = [
  'Riverside Community Clinic',
  'Northgate General Hospital',
  'Lakeview Family Practice',
  'St. Brigid Medical Center',
  'Harborview Urgent Care',
  'Cedar Valley Health Partners',
  'Summit Pediatrics & Family Care',
  'Bayside Regional Hospital',
] as const;

export type EncounterKind = 'ambulatory' | 'emergency' | 'inpatient';

/** Encounter class (v3-ActCode) and a SNOMED encounter type per kind. */
export const ENCOUNTER_KINDS: Record<
  EncounterKind,
  {
    classCode: string;
    classDisplay: string;
    typeCode: string;
    typeDisplay: string;
    minMinutes: number;
    maxMinutes: number;
  }
> = {
  ambulatory: {
    classCode: 'AMB',
    classDisplay: 'ambulatory',
    typeCode: '185349003',
    typeDisplay: 'Encounter for check up (procedure)',
    minMinutes: 20,
    maxMinutes: 60,
  },
  emergency: {
    classCode: 'EMER',
    classDisplay: 'emergency',
    typeCode: '50849002',
    typeDisplay: 'Emergency room admission (procedure)',
    minMinutes: 90,
    maxMinutes: 8 * 60,
  },
  inpatient: {
    classCode: 'IMP',
    classDisplay: 'inpatient encounter',
    typeCode: '32485007',
    typeDisplay: 'Hospital admission (procedure)',
    minMinutes: 24 * 60,
    maxMinutes: 7 * 24 * 60,
  },
};

export interface QuantityCode {
  loinc: string;
  display: string;
  unit: string;
}

export const VITAL_SIGNS = {
  heartRate: { loinc: '8867-4', display: 'Heart rate', unit: '/min' },
  bloodPressurePanel: { loinc: '85354-9', display: 'Blood pressure panel with all children optional', unit: '' },
  systolic: { loinc: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]' },
  diastolic: { loinc: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]' },
  bodyWeight: { loinc: '29463-7', display: 'Body weight', unit: 'kg' },
  bodyHeight: { loinc: '8302-2', display: 'Body height', unit: 'cm' },
  bmi: { loinc: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2' },
  bodyTemperature: { loinc: '8310-5', display: 'Body temperature', unit: 'Cel' },
} as const satisfies Record<string, QuantityCode>;

export type LabKey = 'glucose' | 'cholesterol' | 'hba1c' | 'hemoglobin';

export const LABS: Record<LabKey, QuantityCode> = {
  glucose: { loinc: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL' },
  cholesterol: { loinc: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL' },
  hba1c: { loinc: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%' },
  hemoglobin: { loinc: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL' },
};

export type ConditionKey =
  'diabetes' | 'hypertension' | 'asthma' | 'hyperlipidemia' | 'bronchitis' | 'depression' | 'anemia';

export interface ConditionDefinition {
  snomed: string;
  display: string;
  /** Chronic conditions stay active; acute ones resolve after a few weeks. */
  chronic: boolean;
  minAge: number;
  /** Probability that a patient has it at some point in the window. */
  prevalence: number;
  medication: { rxnorm: string; display: string; dosage: string };
}

export const CONDITIONS: Record<ConditionKey, ConditionDefinition> = {
  diabetes: {
    snomed: '44054006',
    display: 'Diabetes mellitus type 2 (disorder)',
    chronic: true,
    minAge: 30,
    prevalence: 0.12,
    medication: {
      rxnorm: '860975',
      display: '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet',
      dosage: 'Take 1 tablet by mouth daily with evening meal',
    },
  },
  hypertension: {
    snomed: '38341003',
    display: 'Hypertensive disorder, systemic arterial (disorder)',
    chronic: true,
    minAge: 25,
    prevalence: 0.25,
    medication: {
      rxnorm: '314076',
      display: 'lisinopril 10 MG Oral Tablet',
      dosage: 'Take 1 tablet by mouth once daily',
    },
  },
  asthma: {
    snomed: '195967001',
    display: 'Asthma (disorder)',
    chronic: true,
    minAge: 2,
    prevalence: 0.08,
    medication: {
      rxnorm: '745679',
      display: '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler',
      dosage: 'Inhale 2 puffs every 4 to 6 hours as needed',
    },
  },
  hyperlipidemia: {
    snomed: '55822004',
    display: 'Hyperlipidemia (disorder)',
    chronic: true,
    minAge: 30,
    prevalence: 0.18,
    medication: {
      rxnorm: '617314',
      display: 'atorvastatin 10 MG Oral Tablet',
      dosage: 'Take 1 tablet by mouth at bedtime',
    },
  },
  bronchitis: {
    snomed: '10509002',
    display: 'Acute bronchitis (disorder)',
    chronic: false,
    minAge: 1,
    prevalence: 0.15,
    medication: {
      rxnorm: '308182',
      display: 'amoxicillin 250 MG Oral Capsule',
      dosage: 'Take 1 capsule by mouth three times daily for 7 days',
    },
  },
  depression: {
    snomed: '35489007',
    display: 'Depressive disorder (disorder)',
    chronic: true,
    minAge: 14,
    prevalence: 0.07,
    medication: {
      rxnorm: '312940',
      display: 'sertraline 50 MG Oral Tablet',
      dosage: 'Take 1 tablet by mouth once daily',
    },
  },
  anemia: {
    snomed: '271737000',
    display: 'Anemia (disorder)',
    chronic: false,
    minAge: 1,
    prevalence: 0.05,
    medication: {
      rxnorm: '310325',
      display: 'ferrous sulfate 325 MG Oral Tablet',
      dosage: 'Take 1 tablet by mouth daily for 90 days',
    },
  },
};

export const CONDITION_KEYS = Object.keys(CONDITIONS) as ConditionKey[];
