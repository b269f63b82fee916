import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileView } from '../compile-view.js';
import { ViewDefinitionError } from '../errors.js';
import { parseJsonPreservingDecimals } from '../fhirpath/decimal.js';
import type { CompiledView } from '../types.js';

/** The shipped default views, by file: patient, observation, condition, encounter. */
export const DEFAULT_VIEW_FILES: readonly string[] = ['patient', 'observation', 'condition', 'encounter'].map((name) =>
  fileURLToPath(new URL(`../defaults/${name}.json`, import.meta.url)),
);

/**
 * Reads and compiles ViewDefinition files (relative paths from `baseDir`, default the working directory). Throws
 * {@link ViewDefinitionError} `<file>: <element path>: <reason>` for an unreadable file, bad JSON, an invalid view or
 * two views with one name.
 *
 * @example
 * const views = loadViewFiles(DEFAULT_VIEW_FILES);
 */
export function loadViewFiles(files: readonly string[], baseDir = process.cwd()): CompiledView[] {
  const views: CompiledView[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ViewDefinitionError('', `cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, file);
    }
    let definition: unknown;
    try {
      definition = parseJsonPreservingDecimals(text);
    } catch (error) {
      throw new ViewDefinitionError('', `not JSON (${(error as Error).message})`, file);
    }
    const view = compileView(definition, { file });
    const other = names.get(view.name);
    if (other !== undefined) throw new ViewDefinitionError('name', `'${view.name}' is also the name of ${other}`, file);
    names.set(view.name, file);
    views.push(view);
  }
  return views;
}
