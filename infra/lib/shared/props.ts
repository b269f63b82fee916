/**
 * Throws when both props of an `existingX` / `xProps` pair are given (AWS Solutions Constructs
 * style: they are alternatives, and silently ignoring one would hide a mistake).
 *
 * @example
 * assertAlternatives('ChangeStreamToLake', props, ['existingTable', 'tableProps']);
 */
export function assertAlternatives<T extends object>(
  construct: string,
  props: T,
  ...pairs: ReadonlyArray<readonly [keyof T & string, keyof T & string]>
): void {
  for (const [existing, overrides] of pairs) {
    if (props[existing] !== undefined && props[overrides] !== undefined)
      throw new Error(`${construct}: give ${existing} or ${overrides}, not both`);
  }
}
