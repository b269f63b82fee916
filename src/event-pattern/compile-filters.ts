import { compilePattern } from './compile-pattern.js';
import { InvalidEventPatternError } from './errors.js';
import type { CompiledFilters, CompilePatternOptions, EventPattern } from './types.js';

/** EventBridge Pipes' limit on one filter's pattern text (AWS::Pipes::Pipe Filter.Pattern). */
export const MAX_PIPES_PATTERN_LENGTH = 4096;

/**
 * Compiles a pipe's filter list: an event passes if it matches ANY pattern; an empty list lets
 * everything through (as a pipe without FilterCriteria does). Errors name the pattern index.
 *
 * @example
 * const filters = compileFilters([{ eventName: ['INSERT', 'MODIFY'] }]);
 * filters.test({ eventName: 'REMOVE' }) // false
 */
export function compileFilters(
  patterns: ReadonlyArray<EventPattern | string>,
  options: CompilePatternOptions = {},
): CompiledFilters {
  const compiled = patterns.map((pattern, index) => {
    try {
      const result = compilePattern(pattern, options);
      if (options.dialect === 'pipes' && result.json.length > MAX_PIPES_PATTERN_LENGTH) {
        throw new InvalidEventPatternError(
          '',
          `is longer than ${MAX_PIPES_PATTERN_LENGTH} characters, the Pipes limit`,
        );
      }
      return result;
    } catch (error) {
      if (error instanceof InvalidEventPatternError) {
        throw new InvalidEventPatternError(
          error.path === '' ? `filter[${index}]` : `filter[${index}].${error.path}`,
          error.reason,
        );
      }
      throw error;
    }
  });
  if (compiled.length === 0) return { patterns: compiled, test: () => true };
  const tests = compiled.map((pattern) => pattern.test);
  return {
    patterns: compiled,
    test: (event) => {
      for (const test of tests) if (test(event)) return true;
      return false;
    },
  };
}

/**
 * The `FilterCriteria` CloudFormation/CDK expects for a pipe, from validated filters.
 *
 * @example
 * toFilterCriteria(compileFilters([{ eventName: ['INSERT'] }])) // { filters: [{ pattern: '{"eventName":["INSERT"]}' }] }
 */
export function toFilterCriteria(filters: CompiledFilters): { filters: Array<{ pattern: string }> } {
  return { filters: filters.patterns.map((pattern) => ({ pattern: pattern.json })) };
}
