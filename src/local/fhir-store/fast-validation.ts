import {
  fhirTypeToJsType,
  parseFhirPath,
  toTypedValue,
  tryGetDataType,
  UCUM,
  validationRegexes,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
  type validateTypedValue,
} from '@medplum/core';
import { ensureR4Schema } from './r4-schema.js';
import { bindingElementOf, expandValueSet } from './required-bindings.js';

/*
 * A compiled fast path in front of `@medplum/core`'s validator, for the common case of a clean resource.
 *
 * `@medplum/core` crawls every element of every type schema for each object (present or not), building a
 * typed value and a path string for each, which costs ~100 µs for a typical Observation. This module compiles,
 * once per type, a table from JSON key to what the validator checks for it (JSON type, primitive format,
 * cardinality, invariants, reference target, required binding) and walks only the keys a resource has.
 *
 * It answers one question: is it certain that the full validation reports no issue at all (no error, no
 * warning)? It is deliberately conservative: anything unusual (primitive extensions `_x`, nulls, empty values,
 * contained or nested resources, unknown elements, profiles' patterns/slices, a failing check, an invariant that
 * is false or throws) answers "not certain", and the caller runs the full validation, which then produces the
 * exact issues. So verdicts and issues are the full validator's by construction, as long as this module never
 * answers "clean" for a resource the full validation would flag — `test/unit/fhir-store/fast-validation.test.ts`
 * checks that over a varied corpus of valid and invalid resources.
 */

type FhirPathAtom = ReturnType<typeof parseFhirPath>;

/**
 * Invariants that are certainly true when the value they are checked on has none of the listed elements
 * (for at least one of the alternatives): e.g. `dataAbsentReason.empty() or value.empty()` without a
 * `dataAbsentReason`. A key counts as present when it starts with a listed name (`value` covers
 * `valueQuantity`). Skipping their evaluation then cannot change the verdict; when the elements are
 * present, the invariant is evaluated as usual. Each entry is checked against the FHIRPath engine by
 * `test/unit/fhir-store/fast-validation.test.ts`.
 */
export const INVARIANT_SHORTCUTS: ReadonlyMap<string, readonly (readonly string[])[]> = new Map([
  ['contained.contained.empty()', [['contained']]], // dom-2
  ['contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()', [['contained']]], // dom-4
  ['contained.meta.security.empty()', [['contained']]], // dom-5
  ['dataAbsentReason.empty() or value.empty()', [['dataAbsentReason'], ['value']]], // obs-6
  [
    'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    [['value'], ['component']],
  ], // obs-7
  [
    "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    [['abatement']],
  ], // con-4
  [
    "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    [['verificationStatus'], ['clinicalStatus']],
  ], // con-5
  ["where(use = 'home').empty()", [['use']]], // org-2, org-3
  ["total.empty() or (type = 'searchset') or (type = 'history')", [['total']]], // bdl-1
  ["entry.search.empty() or (type = 'searchset')", [['entry']]], // bdl-2
]);

interface CompiledConstraint {
  atom: FhirPathAtom;
  /** From {@link INVARIANT_SHORTCUTS}. */
  trueWithout?: readonly (readonly string[])[];
}

/** True when `value` has no key starting with any of `names`. */
function lacksAll(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  for (const key in value) for (const name of names) if (key.startsWith(name)) return false;
  return true;
}

/** Invariants `@medplum/core` does not evaluate (kept in step with its `skippedConstraintKeys`). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt']);
const HL7_BASE = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_BASE = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;

/** How the full validator checks one JSON key of one type. */
interface KeyPlan {
  /** The schema element's key (`value[x]` for `valueQuantity`). */
  elementKey: string;
  /** Position of the element in the type schema: the full validator reports issues in that order. */
  elementIndex: number;
  /** The value's type as the full validator types it (Element/BackboneElement resolved). */
  type: string;
  choice: boolean;
  isArray: boolean;
  min: number;
  max: number;
  required: boolean;
  /** Present only for primitive types: the JSON type and format checks. */
  primitive?: { jsType: string; regex: RegExp | undefined; integer: boolean; positive: boolean; unsigned: boolean };
  /** Type to recurse into for complex values. */
  complexType?: string;
  /** Error-severity invariants of the element, evaluated per value. */
  constraints: CompiledConstraint[];
  /** `targetProfile`s of a Reference-typed value (the reference-type warning). */
  targetProfiles?: string[];
  /** Codes of a required binding on a `code` value; absent when not checked. */
  requiredCodes?: ReadonlySet<string>;
  /** The full validator's handling is not replicated (slices, patterns, nested resources, …): fall back. */
  unsupported: boolean;
}

interface TypePlan {
  keys: Map<string, KeyPlan>;
  /** Number of elements with `min > 0`. */
  requiredCount: number;
  /** Error-severity invariants of the type itself (checked for the root resource only, like the full validator). */
  rootConstraints: CompiledConstraint[];
}

const plans = new Map<string, TypePlan | null>();
const atoms = new Map<string, FhirPathAtom>();

function atomOf(expression: string): FhirPathAtom {
  let atom = atoms.get(expression);
  if (!atom) {
    atom = parseFhirPath(expression);
    atoms.set(expression, atom);
  }
  return atom;
}

function constraintAtoms(constraints: InternalTypeSchema['constraints']): CompiledConstraint[] | undefined {
  const result: CompiledConstraint[] = [];
  for (const constraint of constraints ?? []) {
    if (constraint.severity !== 'error' || SKIPPED_CONSTRAINTS.has(constraint.key)) continue;
    try {
      const trueWithout = INVARIANT_SHORTCUTS.get(constraint.expression);
      result.push({ atom: atomOf(constraint.expression), ...(trueWithout ? { trueWithout } : {}) });
    } catch {
      return undefined; // the full validator reports an evaluation error
    }
  }
  return result;
}

const capitalize = (word: string): string => (word ? word.charAt(0).toUpperCase() + word.substring(1) : '');

/** The element name a key matches as the full validator's `isChoiceOfType` does (split before capitals). */
function choicePrefixOf(key: string, elements: Record<string, InternalSchemaElement>): string | undefined {
  let test = '';
  for (const part of key.split(/(?=[A-Z])/g)) {
    test += part;
    if (Object.hasOwn(elements, `${test}[x]`)) return `${test}[x]`;
  }
  return undefined;
}

function planKey(
  schema: InternalTypeSchema,
  key: string,
  elementKey: string,
  elementIndex: number,
  element: InternalSchemaElement,
  typeCode: string,
): KeyPlan {
  const choice = elementKey.endsWith('[x]');
  const constraints = constraintAtoms(element.constraints);
  const plan: KeyPlan = {
    elementKey,
    elementIndex,
    type: typeCode,
    choice,
    isArray: element.isArray === true,
    min: element.min,
    max: element.max,
    required: element.min > 0,
    constraints: constraints ?? [],
    unsupported:
      constraints === undefined ||
      element.slicing !== undefined ||
      element.pattern !== undefined ||
      element.fixed !== undefined ||
      typeCode === 'Resource' ||
      // A key the additional-property check would read as another element's choice (or a direct one as a choice).
      choicePrefixOf(key, schema.elements) !== (choice ? elementKey : undefined),
  };
  const binding = bindingElementOf(schema, key);
  if (typeCode in fhirTypeToJsType) {
    plan.primitive = {
      jsType: fhirTypeToJsType[typeCode as keyof typeof fhirTypeToJsType],
      regex: validationRegexes[typeCode],
      integer: INTEGER_TYPES.has(typeCode),
      positive: typeCode === 'positiveInt',
      unsigned: typeCode === 'unsignedInt',
    };
    const valueSet = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
    if (binding?.type === 'code' && binding.element === element && typeCode === 'code' && valueSet) {
      const codes = expandValueSet(valueSet);
      if (codes) plan.requiredCodes = codes;
    } else if (binding === undefined || binding.type !== typeCode || binding.element !== element) {
      plan.unsupported = true; // the binding check would read this key differently
    }
  } else {
    const complexType =
      typeCode === 'Element' || typeCode === 'BackboneElement' ? (element.type[0]?.code ?? typeCode) : typeCode;
    if (typeCode === 'undefined' || !tryGetDataType(complexType)) plan.unsupported = true;
    // The binding check recurses by its own reading of the key's type; it must be the same type.
    if (binding === undefined || binding.type !== complexType || binding.element !== element) plan.unsupported = true;
    plan.complexType = complexType;
    plan.type = complexType;
    if (typeCode === 'Reference') {
      const profiles = element.type.find((type) => type.code === 'Reference')?.targetProfile;
      if (profiles) plan.targetProfiles = profiles;
    }
  }
  return plan;
}

function planOf(typeName: string): TypePlan | null {
  const known = plans.get(typeName);
  if (known !== undefined) return known;
  const schema = tryGetDataType(typeName);
  let plan: TypePlan | null = null;
  const rootConstraints = schema ? constraintAtoms(schema.constraints) : undefined;
  if (schema && rootConstraints) {
    const keys = new Map<string, KeyPlan>();
    let requiredCount = 0;
    for (const [elementIndex, [elementKey, element]] of Object.entries(schema.elements).entries()) {
      if (element.min > 0) requiredCount++;
      if (elementKey.endsWith('[x]')) {
        const base = elementKey.slice(0, -3);
        for (const type of element.type) {
          const key = base + capitalize(type.code);
          keys.set(key, planKey(schema, key, elementKey, elementIndex, element, type.code));
        }
      } else if (element.type.length === 1 && element.type[0]) {
        keys.set(elementKey, planKey(schema, elementKey, elementKey, elementIndex, element, element.type[0].code));
      } else {
        keys.set(elementKey, {
          ...planKey(schema, elementKey, elementKey, elementIndex, element, 'undefined'),
          unsupported: true,
        });
      }
    }
    plan = { keys, requiredCount, rootConstraints };
  }
  plans.set(typeName, plan);
  return plan;
}

/** An issue as `@medplum/core`'s validator reports it. */
export type MedplumIssue = ReturnType<typeof validateTypedValue>[number];

/** Per-resource state of one check: the variables invariants see, where the walk is, the warnings found. */
interface Context {
  variables: Record<string, TypedValue>;
  rootPath: string;
  /** The walk's position: per level, the element key, its schema index and the array index (-1: none). */
  keys: string[];
  elementIndexes: number[];
  arrayIndexes: number[];
  depth: number;
  warnings: { order: number[]; issue: MedplumIssue }[];
}

function constraintsHold(constraints: CompiledConstraint[], value: TypedValue, context: Context): boolean {
  if (constraints.length === 0) return true;
  context.variables['%context'] = value;
  for (const { atom, trueWithout } of constraints) {
    if (trueWithout?.some((names) => lacksAll(value.value, names))) continue;
    let result: TypedValue[];
    try {
      result = atom.eval({ variables: context.variables }, [value]);
    } catch {
      return false;
    }
    if (result.length !== 1 || (result[0]?.value as { valueOf(): unknown } | undefined)?.valueOf() !== true)
      return false;
  }
  return true;
}

/**
 * The resource type a reference names when the full validator would warn that the element does not allow it
 * (its `referenceTypeCheck`), else undefined.
 */
function unexpectedReferenceType(value: Record<string, unknown>, targetProfiles: string[]): string | undefined {
  const reference = value.reference;
  if (typeof reference !== 'string' || reference.startsWith('#')) return undefined;
  const type = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
  if (!type) return undefined;
  for (const profile of targetProfiles) {
    if (profile === `${HL7_BASE}Resource` || profile === HL7_BASE + type || profile === MEDPLUM_BASE + type)
      return undefined;
    if (!profile.startsWith(HL7_BASE) && !profile.startsWith(MEDPLUM_BASE)) return undefined;
  }
  return type;
}

/** The full validator's path of the value the walk is at, e.g. `Encounter.participant[0].individual`. */
function pathOf(context: Context): string {
  let path = context.rootPath;
  for (let level = 0; level <= context.depth; level++) {
    path += `.${context.keys[level]}`;
    const index = context.arrayIndexes[level] ?? -1;
    if (index >= 0) path += `[${index}]`;
  }
  return path;
}

/**
 * Where the full validator reports an issue about the value the walk is at: it checks an element's values
 * (in schema order) before crawling into them, so the value's own issues sort before those inside it.
 */
function orderOf(context: Context): number[] {
  const order: number[] = [];
  for (let level = 0; level <= context.depth; level++)
    order.push(context.elementIndexes[level] ?? 0, level === context.depth ? 0 : 1, context.arrayIndexes[level] ?? -1);
  return order;
}

function compareOrders(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

function primitiveOk(item: unknown, primitive: NonNullable<KeyPlan['primitive']>): boolean {
  if (typeof item !== primitive.jsType) return false;
  if (typeof item === 'string') {
    if (item.length > MAX_STRING || !item.trim()) return false;
    return primitive.regex === undefined || primitive.regex.exec(item) !== null;
  }
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) return false;
    if (primitive.integer && !Number.isInteger(item)) return false;
    if (primitive.positive && item <= 0) return false;
    if (primitive.unsigned && item < 0) return false;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function itemOk(item: unknown, key: KeyPlan, context: Context): boolean {
  if (key.primitive) {
    if (!primitiveOk(item, key.primitive)) return false;
    if (key.requiredCodes && !key.requiredCodes.has(item as string)) return false;
    return key.constraints.length === 0 || constraintsHold(key.constraints, { type: key.type, value: item }, context);
  }
  if (!isPlainObject(item)) return false;
  if (key.constraints.length > 0 && !constraintsHold(key.constraints, { type: key.type, value: item }, context))
    return false;
  if (key.targetProfiles !== undefined) {
    const got = unexpectedReferenceType(item, key.targetProfiles);
    if (got !== undefined)
      context.warnings.push({
        order: orderOf(context),
        issue: {
          severity: 'warning',
          code: 'structure',
          details: { text: `Invalid reference: got "${got}", expected "${key.targetProfiles.join('", "')}"` },
          expression: [pathOf(context)],
        },
      });
  }
  return objectOk(item, key.type, context);
}

function objectOk(value: Record<string, unknown>, typeName: string, context: Context, root = false): boolean {
  const plan = planOf(typeName);
  if (!plan) return false;
  let requiredSeen = 0;
  let choices: string[] | undefined;
  let keyCount = 0;
  const level = ++context.depth;
  try {
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      keyCount++;
      if (name === 'resourceType') {
        if (root) continue;
        return false;
      }
      const key = plan.keys.get(name);
      if (key === undefined || key.unsupported) return false;
      if (key.choice) {
        if (choices?.includes(key.elementKey)) return false;
        (choices ??= []).push(key.elementKey);
      }
      if (key.required) requiredSeen++;
      context.keys[level] = key.elementKey;
      context.elementIndexes[level] = key.elementIndex;
      const child = value[name];
      if (key.isArray) {
        if (!Array.isArray(child) || child.length === 0 || child.length < key.min || child.length > key.max)
          return false;
        for (let index = 0; index < child.length; index++) {
          context.arrayIndexes[level] = index;
          if (!itemOk(child[index], key, context)) return false;
        }
      } else {
        if (Array.isArray(child) || child === null || child === undefined || key.min > 1 || key.max < 1) return false;
        context.arrayIndexes[level] = -1;
        if (!itemOk(child, key, context)) return false;
      }
    }
  } finally {
    context.depth = level - 1;
  }
  return (root || keyCount > 0) && requiredSeen === plan.requiredCount;
}

/**
 * The issues `@medplum/core`'s `validateResource` reports for `resource` when it is certain that they are all
 * warnings and that no required binding is violated either (so the resource is valid), in the validator's own
 * order and form; `undefined` when the resource may be invalid or unusual, and the caller must run the full
 * validation (`checkResource`) for the verdict and the issues. Compiled per resource type on first use.
 *
 * @example
 * fastValidationIssues({ resourceType: 'Patient', gender: 'female' }) // []
 * fastValidationIssues({ resourceType: 'Patient', gender: 'xyz' }) // undefined: run the full validation
 */
export function fastValidationIssues(resource: { resourceType: string }): MedplumIssue[] | undefined {
  ensureR4Schema();
  if (!isPlainObject(resource) || typeof resource.resourceType !== 'string') return undefined;
  const plan = planOf(resource.resourceType);
  if (!plan) return undefined;
  const root = toTypedValue(resource);
  if (root.type !== resource.resourceType) return undefined;
  const context: Context = {
    variables: { '%ucum': toTypedValue(UCUM), '%resource': root, '%rootResource': root },
    rootPath: tryGetDataType(resource.resourceType)?.path ?? resource.resourceType,
    keys: [],
    elementIndexes: [],
    arrayIndexes: [],
    depth: -1,
    warnings: [],
  };
  try {
    if (!constraintsHold(plan.rootConstraints, root, context)) return undefined;
    if (!objectOk(resource as unknown as Record<string, unknown>, resource.resourceType, context, true))
      return undefined;
  } catch {
    return undefined;
  }
  if (context.warnings.length > 1) context.warnings.sort((a, b) => compareOrders(a.order, b.order));
  return context.warnings.map((warning) => warning.issue);
}
