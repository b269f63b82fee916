import { InvalidSeedOptionsError } from './errors.js';
import type { ClinicalWriteMethod, PopulationOptions } from './types.js';

/** The fixed default "now", so that output does not depend on the day it is generated. */
export const DEFAULT_NOW = new Date(Date.UTC(2025, 0, 1));

export interface ResolvedPopulationOptions {
  patients: number;
  seed: string;
  firstPatient: number;
  /** Earliest encounter time, epoch ms. */
  windowStart: number;
  /** Latest time any generated date may take, epoch ms. */
  windowEnd: number;
  encounters: { min: number; max: number };
  method: ClinicalWriteMethod;
}

const isWholeNumber = (value: number): boolean => Number.isInteger(value) && value >= 0;

/**
 * Validates population options and fills in defaults.
 *
 * @example
 * const resolved = resolvePopulationOptions({ patients: 10, seed: 7 });
 */
export function resolvePopulationOptions(options: PopulationOptions): ResolvedPopulationOptions {
  const { patients, seed } = options;
  if (!isWholeNumber(patients))
    throw new InvalidSeedOptionsError(`patients must be a whole number ≥ 0, got ${patients}`);
  if (typeof seed !== 'string' && !Number.isFinite(seed))
    throw new InvalidSeedOptionsError('seed must be a finite number or a string');
  const now = options.now ?? DEFAULT_NOW;
  if (Number.isNaN(now.getTime())) throw new InvalidSeedOptionsError('now must be a valid Date');
  const endYear = options.endYear ?? now.getUTCFullYear();
  const startYear = options.startYear ?? endYear - 9;
  if (!Number.isInteger(startYear) || !Number.isInteger(endYear) || startYear > endYear) {
    throw new InvalidSeedOptionsError(`startYear (${startYear}) must be an integer ≤ endYear (${endYear})`);
  }
  if (startYear < 1931) throw new InvalidSeedOptionsError(`startYear must be ≥ 1931, got ${startYear}`);
  const windowStart = Date.UTC(startYear, 0, 1);
  const windowEnd = Math.min(now.getTime(), Date.UTC(endYear + 1, 0, 1) - 1);
  if (windowEnd <= windowStart) throw new InvalidSeedOptionsError('now must fall after the start of startYear');
  const encounters = options.encountersPerPatient ?? { min: 2, max: 6 };
  if (!isWholeNumber(encounters.min) || !isWholeNumber(encounters.max) || encounters.min > encounters.max) {
    throw new InvalidSeedOptionsError(`encountersPerPatient must be whole numbers with min ≤ max`);
  }
  const firstPatient = options.firstPatient ?? 0;
  if (!isWholeNumber(firstPatient)) throw new InvalidSeedOptionsError('firstPatient must be a whole number ≥ 0');
  const method = options.method ?? 'PUT';
  if (method !== 'PUT' && method !== 'POST') throw new InvalidSeedOptionsError(`method must be PUT or POST`);
  return { patients, seed: String(seed), firstPatient, windowStart, windowEnd, encounters, method };
}
