import { fhirDateRange, type DateRange } from './date-range.js';
import { r4ResourceTypes } from './r4-definitions.js';
import { r4TokenParameters } from './token-parameters.js';
import type { FhirResource } from './types.js';

/** Kinds of search parameter the store indexes. */
export type SearchParamKind = 'token' | 'string' | 'date' | 'reference';

/** Index rows one resource contributes for one parameter. */
export type IndexValue =
  | { kind: 'token'; system: string | null; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'date'; range: DateRange }
  | { kind: 'reference'; target: string };

/** One supported search parameter of one resource type. */
export interface SearchParamDefinition {
  code: string;
  kind: SearchParamKind;
  documentation: string;
  extract(resource: FhirResource): IndexValue[];
}

const byType = new Map<string, SearchParamDefinition[]>();

/**
 * The search parameters this store supports for a resource type (besides `_id` and
 * `_lastUpdated`): every token parameter of the R4 search parameter list, plus string, date and
 * reference parameters derived from which elements the R4 type has.
 *
 * @example
 * searchParametersOf('Observation').map(p => p.code) // ['identifier', 'subject', 'patient', 'encounter']
 */
export function searchParametersOf(type: string): SearchParamDefinition[] {
  const known = byType.get(type);
  if (known) return known;
  const definition = r4ResourceTypes().get(type);
  const params: SearchParamDefinition[] = [];
  if (definition) {
    const elements = definition.elements;
    const tokens = r4TokenParameters(type);
    params.push(...tokens);
    // Types whose identifier element has no R4 search parameter keep the generic one.
    if (elements.has('identifier') && !tokens.some((param) => param.code === 'identifier'))
      params.push(identifierParam);
    const name = elements.get('name');
    if (name?.items?.$ref?.endsWith('/HumanName')) params.push(humanNameParam, familyParam, givenParam);
    else if (name?.$ref?.endsWith('/string')) params.push(plainNameParam);
    if (elements.has('birthDate')) params.push(birthdateParam);
    if (elements.has('subject')) params.push(subjectParam);
    if (elements.has('patient') || elements.has('subject')) params.push(patientParam);
    if (elements.has('encounter')) params.push(encounterParam);
  }
  byType.set(type, params);
  return params;
}

/** Normalises text for FHIR string search: lower case, accents removed. *
 * @example
 * normaliseSearchString('Müller') // 'muller'
 */
export function normaliseSearchString(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * Reduces a reference to `Type/id`: drops a base URL and any `/_history/<vid>`.
 * Leaves `urn:` and `#contained` references as they are.
 *
 * @example
 * normaliseReference('https://x/r4/Patient/1/_history/2') // 'Patient/1'
 */
export function normaliseReference(reference: string): string {
  if (reference.startsWith('urn:') || reference.startsWith('#')) return reference;
  const parts = reference.split('/').filter((part) => part.length > 0);
  const history = parts.indexOf('_history');
  const kept = history >= 0 ? parts.slice(0, history) : parts;
  return kept.slice(-2).join('/');
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function stringsOf(value: unknown): string[] {
  return asArray(value).filter((item): item is string => typeof item === 'string' && item.length > 0);
}

function referenceOf(value: unknown): string | undefined {
  const reference = (value as { reference?: unknown } | undefined)?.reference;
  return typeof reference === 'string' ? normaliseReference(reference) : undefined;
}

const identifierParam: SearchParamDefinition = {
  code: 'identifier',
  kind: 'token',
  documentation: 'Identifier: `system|value`, `value`, `|value` (no system) or `system|`.',
  extract: (resource) =>
    asArray(resource.identifier).flatMap((identifier) => {
      const { system, value } = (identifier ?? {}) as { system?: unknown; value?: unknown };
      if (typeof value !== 'string') return [];
      return [{ kind: 'token' as const, system: typeof system === 'string' ? system : null, value }];
    }),
};

function humanNameParts(
  resource: FhirResource,
  parts: ('family' | 'given' | 'text' | 'prefix' | 'suffix')[],
): IndexValue[] {
  return asArray(resource.name)
    .flatMap((name) => parts.flatMap((part) => stringsOf((name as Record<string, unknown>)[part])))
    .map((value) => ({ kind: 'string' as const, value }));
}

const humanNameParam: SearchParamDefinition = {
  code: 'name',
  kind: 'string',
  documentation:
    'Any part of a HumanName (family, given, text, prefix, suffix); case- and accent-insensitive prefix match.',
  extract: (resource) => humanNameParts(resource, ['family', 'given', 'text', 'prefix', 'suffix']),
};

const familyParam: SearchParamDefinition = {
  code: 'family',
  kind: 'string',
  documentation: 'HumanName.family; case- and accent-insensitive prefix match.',
  extract: (resource) => humanNameParts(resource, ['family']),
};

const givenParam: SearchParamDefinition = {
  code: 'given',
  kind: 'string',
  documentation: 'HumanName.given; case- and accent-insensitive prefix match.',
  extract: (resource) => humanNameParts(resource, ['given']),
};

const plainNameParam: SearchParamDefinition = {
  code: 'name',
  kind: 'string',
  documentation: 'The name element; case- and accent-insensitive prefix match.',
  extract: (resource) => stringsOf(resource.name).map((value) => ({ kind: 'string' as const, value })),
};

const birthdateParam: SearchParamDefinition = {
  code: 'birthdate',
  kind: 'date',
  documentation: 'birthDate, with prefixes eq, ne, gt, ge, lt, le.',
  extract: (resource) => {
    const range = typeof resource.birthDate === 'string' ? fhirDateRange(resource.birthDate) : undefined;
    return range ? [{ kind: 'date', range }] : [];
  },
};

const subjectParam: SearchParamDefinition = {
  code: 'subject',
  kind: 'reference',
  documentation: 'subject reference: `Type/id` or an absolute URL ending in it.',
  extract: (resource) => {
    const target = referenceOf(resource.subject);
    return target ? [{ kind: 'reference', target }] : [];
  },
};

const patientParam: SearchParamDefinition = {
  code: 'patient',
  kind: 'reference',
  documentation: 'The patient: the `patient` element, or `subject` when it references a Patient. `Patient/id` or `id`.',
  extract: (resource) => {
    const direct = referenceOf(resource.patient);
    if (direct) return [{ kind: 'reference', target: direct }];
    const subject = referenceOf(resource.subject);
    return subject?.startsWith('Patient/') ? [{ kind: 'reference', target: subject }] : [];
  },
};

const encounterParam: SearchParamDefinition = {
  code: 'encounter',
  kind: 'reference',
  documentation: 'encounter reference: `Encounter/id` or `id`.',
  extract: (resource) => {
    const target = referenceOf(resource.encounter);
    return target ? [{ kind: 'reference', target }] : [];
  },
};

/** Target type a bare id is resolved against, for reference parameters that imply one. */
export const IMPLIED_REFERENCE_TYPE: Readonly<Record<string, string>> = { patient: 'Patient', encounter: 'Encounter' };
