import { operationOutcome } from './fhir-documents.js';
import type { InteractionResult } from './interactions.js';
import type { FhirResource } from './types.js';

/** What a client asked for in `Prefer` (RFC 7240 as FHIR R4 §3.1.0.1.8 uses it). */
export interface Preferences {
  /** `return=`: what the body of a write answers with; absent means the resource (representation). */
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  /** `handling=lenient`: ignore unsupported search parameters. */
  lenient: boolean;
}

/**
 * Parses a `Prefer` header, e.g. `return=OperationOutcome, handling=lenient`. Unknown
 * preferences are ignored, as RFC 7240 asks.
 *
 * @example
 * parsePrefer('return=minimal') // { return: 'minimal', lenient: false }
 */
export function parsePrefer(header: string | undefined): Preferences {
  const preferences: Preferences = { lenient: false };
  for (const part of (header ?? '').split(/[,;]/)) {
    const [name = '', value = ''] = part.split('=', 2).map((text) => text.trim().replace(/^"|"$/g, ''));
    if (name.toLowerCase() === 'return' && ['minimal', 'representation', 'OperationOutcome'].includes(value))
      preferences.return = value as Preferences['return'];
    if (name.toLowerCase() === 'handling' && value === 'lenient') preferences.lenient = true;
  }
  return preferences;
}

const WHAT_HAPPENED: Record<number, string> = { 200: 'ok', 201: 'created', 204: 'deleted' };

/**
 * The OperationOutcome answering a write under `Prefer: return=OperationOutcome`: one
 * `information` issue naming what happened and the version now current (ids only, no content).
 *
 * @example
 * writeOutcome('PUT', { status: 200, version }) // issue: 'PUT Patient/1: 200 ok, version 2'
 */
export function writeOutcome(method: string, result: InteractionResult): FhirResource {
  const version = result.version;
  const target = version ? `${version.type}/${version.id}` : 'the resource';
  const versionText = version ? `, version ${version.versionId}` : '';
  const what = WHAT_HAPPENED[result.status] ?? String(result.status);
  return operationOutcome(
    'information',
    'informational',
    `${method} ${target}: ${result.status} ${what}${versionText}`,
  );
}
