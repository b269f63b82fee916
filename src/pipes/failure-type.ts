/**
 * A short, value-free name for why something failed, safe to log: the `errorType` of a record error, else the errno
 * code (`ENOSPC`, `ENAMETOOLONG`), else the error class. Messages are left out on purpose: a file-system message
 * quotes the path, and a path can hold partition values.
 *
 * @example
 * failureType(Object.assign(new Error("ENOSPC: no space left, open '/lake/x'"), { code: 'ENOSPC' })) // 'ENOSPC'
 */
export function failureType(error: unknown): string {
  if (!(error instanceof Error)) return 'non-error thrown';
  const { errorType, code } = error as Error & { errorType?: unknown; code?: unknown };
  if (typeof errorType === 'string') return errorType;
  if (typeof code === 'string') return code;
  return error.name;
}
