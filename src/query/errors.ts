/** Raised when SQL fails; carries DuckDB's message. */
export class QueryError extends Error {
  public override readonly name = 'QueryError';
}

/**
 * The first line of an error message with quoted literals blanked: DuckDB quotes the offending value in
 * conversion errors, and a lake value may be PHI. File names are reported by the caller, not from here.
 *
 * @example
 * safeReason(new Error("Could not convert string 'Ann' to INT64")) // "Could not convert string '…' to INT64"
 */
export function safeReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? '';
  return first.replace(/'[^']*'/g, "'…'").replace(/"[^"]*"/g, '"…"');
}
