/** A FHIR R4 resource as plain JSON (the generator does not depend on @medplum/fhirtypes). */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [field: string]: unknown;
}

export type BundleRequestMethod = 'POST' | 'PUT';

export interface BundleEntry {
  fullUrl: string;
  resource: FhirResource;
  request: { method: BundleRequestMethod; url: string };
}

/** A FHIR R4 `transaction` Bundle. */
export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: BundleEntry[];
}

/**
 * How clinical resources are written.
 * - `PUT` (default): deterministic ids (`obs-p-000123-4`), so re-seeding with the same seed is idempotent.
 * - `POST`: the server assigns ids; re-seeding creates duplicates.
 */
export type ClinicalWriteMethod = BundleRequestMethod;

export interface PopulationOptions {
  /** Number of patients to generate. */
  patients: number;
  /** Any number or string; same seed → identical output. */
  seed: number | string;
  /** First calendar year of encounters (default `endYear - 9`). */
  startYear?: number;
  /** Last calendar year of encounters (default the year of `now`). */
  endYear?: number;
  /** Upper bound for every generated date (default 2025-01-01T00:00:00Z, fixed so output is reproducible). */
  now?: Date;
  /** Encounters per patient, inclusive (default 2–6, giving roughly 20–60 resources per patient). */
  encountersPerPatient?: { min: number; max: number };
  /** Index of the first patient (default 0), to generate a population in shards. */
  firstPatient?: number;
  /** Write method for clinical resources (default `PUT`). The directory is always PUT. */
  method?: ClinicalWriteMethod;
}

/** A `patients` table item, the domain shape the enrichment maps to FHIR. */
export interface DomainPatient {
  id: string;
  firstName: string;
  lastName: string;
  middleName?: string;
  /** `MM-DD-YYYY`, as the reference design stores it. */
  birthDate: string;
  address: { address1: string; address2?: string; city: string; state: string; postalCode: string };
  gender: string;
  phone: string;
  email: string;
}

/** A `visits` table item; one per encounter of the same patient. */
export interface DomainVisit {
  id: string;
  siteId: string;
  patientId: string;
  /** The visit reason. */
  name: string;
  /** Systolic blood pressure at the visit. */
  valueOne: number;
  /** Heart rate at the visit. */
  valueTwo: number;
  /** Epoch milliseconds of the visit start. */
  createdAtTime: number;
}

export interface DomainRecords {
  patient: DomainPatient;
  visits: DomainVisit[];
}

/** Progress callback: patients done, patients total, resources (or items) written so far. */
export type SeedProgress = (done: number, total: number, resources: number) => void;

export interface RetryOptions {
  /** Total attempts per request, including the first (default 6). */
  attempts?: number;
  /** First backoff delay; doubles each retry (default 250 ms). */
  baseDelayMs?: number;
  /** Cap for one delay (default 10 s). */
  maxDelayMs?: number;
}

export interface SeedCounts {
  patients: number;
  bundles: number;
  resources: number;
  byType: Record<string, number>;
  retries: number;
}
