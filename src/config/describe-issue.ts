import type { z } from 'zod';
import { knownKeysAt } from './known-keys.js';
import { suggestKey } from './suggest-key.js';

/** One config problem, in words: `field` is the dotted path of the bad value (or of the unknown key). */
export interface ConfigIssue {
  field: string;
  message: string;
}

const dotted = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * Describes the most useful of a failed parse's issues. Unknown keys come first: a misspelled key usually
 * also makes a required one look missing, and the spelling is what the user must fix. Each unknown key is
 * named with the closest allowed key at the same place, when one is close.
 *
 * @example
 * describeIssue(configSchema, result.error.issues)
 * // { field: 'tables.0.pipe.partitonBy', message: "tables.0.pipe: unknown key 'partitonBy' (did you mean 'partitionBy'?)" }
 */
export function describeIssue(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigIssue {
  const unknown = issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknown) {
    const known = knownKeysAt(schema, unknown.path);
    const where = dotted(unknown.path) || '(root)';
    const keys = unknown.keys.map((key) => {
      const suggestion = suggestKey(key, known);
      return `unknown key '${key}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`;
    });
    return { field: dotted([...unknown.path, unknown.keys[0]!]), message: `${where}: ${keys.join('; ')}` };
  }
  const issue = issues[0]!;
  const field = dotted(issue.path) || '(root)';
  return { field, message: `${field}: ${issue.message}` };
}
