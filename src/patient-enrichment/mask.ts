import type { FhirPatient, PatientChange } from './types.js';

/** First character (a whole code point, so `山` and emoji survive) followed by `***`. */
function maskWord(word: string): string {
  const [first = ''] = Array.from(word);
  return `${first}***`;
}

/**
 * A one-line, PHI-masked summary of a patient change for console output: id, command, masked
 * name (initials only) and a fully masked birth date.
 *
 * @example
 * maskedPatientSummary(change) // 'PUT Patient/p-1 name=J*** D*** birthDate=****-**-**'
 */
export function maskedPatientSummary(event: PatientChange): string {
  if (event.command === 'DELETE' || !('resourceType' in event.resource)) {
    return `${event.command} ${'reference' in event.resource ? event.resource.reference : 'Patient/?'}`;
  }
  const patient: FhirPatient = event.resource;
  const name = patient.name[0];
  const words = name ? [...name.given, name.family] : [];
  const maskedName = words.length > 0 ? words.map(maskWord).join(' ') : '***';
  const maskedBirthDate = patient.birthDate.replace(/\d/g, '*');
  return `${event.command} Patient/${patient.id} name=${maskedName} birthDate=${maskedBirthDate}`;
}
