import type { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourcesOf } from './template-helpers.js';

const KEYWORDS = new Set([
  'on',
  'where',
  'join',
  'left',
  'right',
  'inner',
  'outer',
  'cross',
  'group',
  'order',
  'limit',
]);
/** A value Athena can evaluate without reading data: a string or number literal, or an execution parameter. */
const STATIC_VALUE = String.raw`(?:'[^']*'|-?\d+(?:\.\d+)?|\?)`;

/**
 * Problems of a query against Athena's rule for `injected` partition projection: for every injected
 * column of every table the query reads, the WHERE clause must hold at least one static equality
 * condition on it, and only such conditions (docs: partition-projection-dynamic-id-partitioning).
 * Deliberately small: it understands `FROM t [AS] a`, `JOIN t [AS] a`, and one WHERE clause.
 */
export function injectedPredicateProblems(sql: string, injectedByTable: Readonly<Record<string, string[]>>): string[] {
  const problems: string[] = [];
  const where = /\bWHERE\b([\s\S]*?)(?:\bGROUP\s+BY\b|\bORDER\s+BY\b|\bLIMIT\b|$)/i.exec(sql)?.[1] ?? '';
  for (const match of sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z0-9_]+)(?:\s+(?:AS\s+)?([a-z_][a-z0-9_]*))?/gi)) {
    const table = match[1]!.toLowerCase();
    const alias = match[2] && !KEYWORDS.has(match[2].toLowerCase()) ? match[2] : table;
    for (const column of injectedByTable[table] ?? []) {
      const reference = String.raw`(?:\b${alias}\.|(?<![.\w]))${column}\b`;
      const uses = [
        ...where.matchAll(
          new RegExp(reference + String.raw`\s*(=|<>|!=|<=|>=|<|>|\bIN\b|\bLIKE\b|\bBETWEEN\b|\bIS\b)?\s*(\S*)`, 'gi'),
        ),
      ];
      const equalities = uses.filter((use) => use[1] === '=' && new RegExp(`^${STATIC_VALUE}`).test(use[2] ?? ''));
      if (equalities.length === 0)
        problems.push(`${table}.${column}: injected, but the WHERE clause has no static equality on it`);
      if (equalities.length !== uses.length)
        problems.push(`${table}.${column}: injected, but the WHERE clause has a condition other than static equality`);
      if (/\bOR\b/i.test(where)) problems.push(`${table}.${column}: injected, but the WHERE clause has OR`);
    }
  }
  return problems;
}

/** Injected partition columns of every Glue table in a template, by table name. */
export function injectedColumnsByTable(template: Template): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const table of Object.values(resourcesOf(template, 'AWS::Glue::Table'))) {
    const input = table.Properties?.TableInput as { Name: string; Parameters?: Record<string, unknown> };
    result[input.Name] = Object.entries(input.Parameters ?? {})
      .filter(([key, value]) => /^projection\.[^.]+\.type$/.test(key) && String(value).toLowerCase() === 'injected')
      .map(([key]) => key.split('.')[1]!);
  }
  return result;
}

/** Every named query in a template: name and SQL. */
export function namedQueries(template: Template): Array<{ name: string; sql: string }> {
  return Object.values(resourcesOf(template, 'AWS::Athena::NamedQuery')).map((query) => ({
    name: String(query.Properties?.Name),
    sql: String(query.Properties?.QueryString),
  }));
}

/** The JSON example in README.md "## Configuration": the README's own example config. */
export function readmeExampleConfig(): unknown {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  if (!json) throw new Error('README.md: no JSON example under "## Configuration"');
  return JSON.parse(json) as unknown;
}
