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

/** Errno codes that say one path can never be written (its name), not that the store as a whole is failing. */
const PATH_SPECIFIC_CODES: ReadonlySet<string> = new Set(['ENAMETOOLONG', 'EINVAL', 'EILSEQ', 'ENOTDIR', 'EISDIR']);

/**
 * Whether a write failure is about the path itself, so retrying later cannot help (its records belong in the error
 * location); a full disk, a read-only file system or an I/O error is not: those records wait for the store to recover.
 *
 * @example
 * isUnwritablePath(Object.assign(new Error('…'), { code: 'ENAMETOOLONG' })) // true
 * isUnwritablePath(Object.assign(new Error('…'), { code: 'ENOSPC' })) // false
 */
export function isUnwritablePath(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && PATH_SPECIFIC_CODES.has(code);
}
