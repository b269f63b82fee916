import type { Clock } from '../ports/clock.js';

/** DynamoDB attribute value as it appears in a stream record (wire JSON). */
export type StreamAttributeValue = object;

/** A DynamoDB item image in wire JSON: attribute name → typed attribute value. */
export type StreamImage = Record<string, StreamAttributeValue>;

/**
 * One DynamoDB stream record, as EventBridge Pipes hands it to an enrichment (bare array element),
 * or as the DynamoDB Streams API returns it (`ApproximateCreationDateTime` as a `Date`).
 */
export interface PatientStreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  eventSource?: string;
  awsRegion?: string;
  eventSourceARN?: string;
  dynamodb?: {
    Keys?: StreamImage;
    NewImage?: StreamImage;
    OldImage?: StreamImage;
    SequenceNumber?: string;
    SizeBytes?: number;
    StreamViewType?: string;
    /** Epoch seconds from Pipes/Lambda; a `Date` from the DynamoDB Streams SDK. */
    ApproximateCreationDateTime?: number | string | Date;
  };
  /** Present for TTL deletes (Pipes: `{type, principalId}`; SDK: `{Type, PrincipalId}`). */
  userIdentity?: object;
}

/** FHIR R4 `HumanName` subset produced by the mapping. */
export interface FhirHumanName {
  use: 'official';
  family: string;
  given: string[];
}

/** FHIR R4 `Address` subset produced by the mapping. */
export interface FhirAddress {
  use: 'home';
  line: string[];
  city: string;
  state: string;
  postalCode: string;
}

/** FHIR R4 `ContactPoint` subset produced by the mapping. */
export interface FhirContactPoint {
  system: 'phone' | 'email';
  value: string;
  use?: 'home';
}

/** FHIR administrative-gender value set. */
export type FhirGender = 'male' | 'female' | 'other' | 'unknown';

/** The FHIR R4 Patient produced from a domain patient. */
export interface FhirPatient {
  resourceType: 'Patient';
  id: string;
  identifier: Array<{ system: string; value: string }>;
  name: FhirHumanName[];
  birthDate: string;
  address: FhirAddress[];
  telecom?: FhirContactPoint[];
  gender?: FhirGender;
  meta?: Record<string, unknown>;
}

/** A reference to a deleted Patient. */
export interface PatientReference {
  reference: `Patient/${string}`;
}

/** The event envelope for one patient change. */
export interface PatientChange {
  version: '1.0';
  source: string;
  type: 'PatientChange';
  /** The DynamoDB stream `eventID` that caused this change. */
  correlationId: string;
  command: 'PUT' | 'DELETE';
  /** ISO-8601 UTC, from the stream's `ApproximateCreationDateTime`. */
  occurredAt: string;
  resource: FhirPatient | PatientReference;
}

/** What to do with a gender the mapping does not recognise. */
export type UnmappableGenderPolicy = 'reject' | 'unknown';

/** Options of the domain → FHIR mapping. */
export interface PatientMappingOptions {
  /** `Patient.identifier.system`. Default `urn:tributary:patient-id`. */
  identifierSystem?: string;
  /** Reject birth dates after today (per `clock`). Default `true`. */
  rejectFutureBirthDates?: boolean;
  /** `reject` (default) fails the record; `unknown` maps it to FHIR `unknown`. */
  unmappableGender?: UnmappableGenderPolicy;
  /** Source of "today" for the future-date check. Default the system clock. */
  clock?: Clock;
}

/** Options of {@link enrichPatientBatch}. */
export interface PatientEnrichmentOptions extends PatientMappingOptions {
  /** Envelope `source`. Default `tributary.patients`. */
  source?: string;
  /** Key attribute holding the patient id. Default `id`. */
  keyAttribute?: string;
  /** Validate every produced Patient against the FHIR R4 definitions (costly on cold start). Default `false`. */
  validate?: boolean;
}

/** A stream record that could not be turned into a {@link PatientChange}. Carries no PHI. */
export interface EnrichmentFailure {
  /** The stream `eventID`, or `index:<n>` when the record has none. */
  eventId: string;
  /** Field-level reason; names fields, never values. */
  reason: string;
  /** Error class name, e.g. `PatientValidationError`. */
  errorType: string;
}

/** Result of {@link enrichPatientBatch}. */
export interface EnrichmentResult {
  events: PatientChange[];
  failures: EnrichmentFailure[];
}
