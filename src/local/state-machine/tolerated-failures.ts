/**
 * The Distributed Map failure threshold (AWS "Tolerated failure threshold for Distributed Map state").
 */

/** Failure counts of a Map Run and its configured tolerance. */
export interface ToleranceInput {
  failures: number;
  total: number;
  toleratedCount: number | undefined;
  toleratedPercentage: number | undefined;
}

/**
 * True when a Map Run must fail with `States.ExceedToleratedFailureThreshold`. With no tolerance configured any
 * failure exceeds it (AWS default 0); with both a count and a percentage, exceeding either one does.
 *
 * @example
 * exceedsToleratedFailures({ failures: 2, total: 10, toleratedCount: undefined, toleratedPercentage: 20 }); // false
 */
export function exceedsToleratedFailures({
  failures,
  total,
  toleratedCount,
  toleratedPercentage,
}: ToleranceInput): boolean {
  if (failures === 0) return false;
  if (toleratedCount === undefined && toleratedPercentage === undefined) return true;
  const overCount = toleratedCount !== undefined && failures > toleratedCount;
  const overPercentage =
    toleratedPercentage !== undefined && total > 0 && (failures / total) * 100 > toleratedPercentage;
  return overCount || overPercentage;
}
