import { systemClock } from '../ports/clock.js';
import { toFhirBirthDate } from './birth-date.js';
import type { DomainPatient } from './domain-patient.js';
import { PatientValidationError, type FieldProblem } from './errors.js';
import { toFhirGender } from './gender.js';
import type { FhirContactPoint, FhirPatient, PatientMappingOptions } from './types.js';

/** Default `Patient.identifier.system` for the domain id. */
export const DEFAULT_IDENTIFIER_SYSTEM = 'urn:tributary:patient-id';

/**
 * Maps a validated domain patient to a FHIR R4 Patient. Pure apart from reading `clock`
 * for the future-birth-date check. Throws {@link PatientValidationError} for impossible dates
 * and unrecognised genders (see {@link toFhirGender}).
 *
 * @example
 * const patient = toFhirPatient(parseDomainPatient(item), { identifierSystem: 'urn:acme:mrn' });
 */
export function toFhirPatient(domain: DomainPatient, options: PatientMappingOptions = {}): FhirPatient {
  const today = (options.clock ?? systemClock).now().toISOString().slice(0, 10);
  // Check every mapped field before failing, so one report lists all of a record's problems.
  const problems: FieldProblem[] = [];
  const attempt = <T>(map: () => T): T | undefined => {
    try {
      return map();
    } catch (error) {
      if (!(error instanceof PatientValidationError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const birthDate = attempt(() =>
    toFhirBirthDate(domain.birthDate, options.rejectFutureBirthDates === false ? {} : { notAfter: today }),
  );
  const gender =
    domain.gender === undefined
      ? undefined
      : attempt(() => toFhirGender(domain.gender ?? '', options.unmappableGender));
  if (problems.length > 0 || birthDate === undefined) throw new PatientValidationError(problems);

  const telecom: FhirContactPoint[] = [];
  if (domain.phone !== undefined) telecom.push({ system: 'phone', value: domain.phone, use: 'home' });
  if (domain.email !== undefined) telecom.push({ system: 'email', value: domain.email });

  const { address } = domain;
  const patient: FhirPatient = {
    resourceType: 'Patient',
    id: domain.id,
    identifier: [{ system: options.identifierSystem ?? DEFAULT_IDENTIFIER_SYSTEM, value: domain.id }],
    name: [
      {
        use: 'official',
        family: domain.lastName,
        given: domain.middleName === undefined ? [domain.firstName] : [domain.firstName, domain.middleName],
      },
    ],
    birthDate,
    address: [
      {
        use: 'home',
        line: address.address2 === undefined ? [address.address1] : [address.address1, address.address2],
        city: address.city,
        state: address.state,
        postalCode: address.postalCode,
      },
    ],
  };
  if (telecom.length > 0) patient.telecom = telecom;
  if (gender !== undefined) patient.gender = gender;
  return patient;
}
