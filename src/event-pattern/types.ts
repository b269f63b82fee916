/** A JSON value as it appears in an event or pattern. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An EventBridge event pattern (a JSON object), as written in config or a pipe's FilterCriteria. */
export type EventPattern = { readonly [key: string]: unknown };

/**
 * Which service's rules the pattern must satisfy. EventBridge Pipes (and Lambda event source
 * mappings) reject a few operators an event bus accepts, e.g. `anything-but` with `prefix`.
 */
export type PatternDialect = 'eventbridge' | 'pipes';

/** Options of {@link compilePattern}. */
export interface CompilePatternOptions {
  /** Reject operators the target service does not support. Default `eventbridge`. */
  dialect?: PatternDialect;
}

/** Tests one event (or one sub-object of it) against a compiled pattern node. */
export type NodeMatcher = (value: unknown) => boolean;

/** A validated, compiled event pattern. */
export interface CompiledPattern {
  /** The pattern as given (validated). */
  readonly pattern: EventPattern;
  /** Canonical JSON of the pattern, what a pipe's `FilterCriteria.Filters[].Pattern` holds. */
  readonly json: string;
  /** The compiled matcher. Prefer {@link matches}. */
  readonly test: NodeMatcher;
}

/** A list of compiled patterns; an event passes if it matches any (or if the list is empty). */
export interface CompiledFilters {
  readonly patterns: readonly CompiledPattern[];
  /** True if the event passes the filters. */
  readonly test: NodeMatcher;
}
