import { UsageError } from './errors.js';

/**
 * Commander argument parser for a whole number >= 1: anything else is a usage error (exit 2), never NaN.
 *
 * @example
 * program.option('-n, --limit <n>', 'most runs to list', positiveInt('--limit'), 20);
 */
export const positiveInt =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: expected a positive whole number, got ${value}`);
    return n;
  };

/**
 * Commander argument parser for a number > 0 (e.g. minutes): anything else is a usage error (exit 2).
 *
 * @example
 * program.option('--export-every <minutes>', 'export schedule', positiveNumber('--export-every'));
 */
export const positiveNumber =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number > 0, got ${value}`);
    return n;
  };
