/**
 * Input and output processing (spec § "Input and Output Processing"): InputPath, Parameters / ItemSelector /
 * ResultSelector payload templates, ResultPath and OutputPath.
 */
import { StatesRuntimeError } from './errors.js';
import { evaluateIntrinsic, looksLikeIntrinsic } from './intrinsic-functions.js';
import { resolvePath, setAtReferencePath } from './json-path.js';

/**
 * Resolves a payload template: every key ending in `.$` is replaced (name without `.$`) by the value its path or
 * intrinsic function yields; other values are copied, objects and arrays recursively.
 * A path that matches nothing raises `States.ParameterPathFailure` (spec § "Payload Template").
 *
 * @example
 * applyPayloadTemplate({ 'id.$': '$.x', fixed: 1 }, { x: 'a' }, {}); // { id: 'a', fixed: 1 }
 */
export function applyPayloadTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((v) => applyPayloadTemplate(v, input, context));
  if (typeof template !== 'object' || template === null) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      const name = key.slice(0, -2);
      if (looksLikeIntrinsic(value)) out[name] = evaluateIntrinsic(value, input, context);
      else {
        const result = resolvePath(input, value, context);
        if (!result.found) {
          throw new StatesRuntimeError(
            'States.ParameterPathFailure',
            `The JSONPath '${value}' specified for the field '${key}' could not be found in the input`,
          );
        }
        out[name] = result.value;
      }
    } else out[key] = applyPayloadTemplate(value, input, context);
  }
  return out;
}

/**
 * Applies InputPath / OutputPath: `undefined` keeps everything, `null` yields `{}`, otherwise the path's value.
 * A path that matches nothing is a `States.Runtime` error (AWS behaviour).
 *
 * @example
 * selectPath({ a: { b: 1 } }, '$.a', 'InputPath', {}); // { b: 1 }
 */
export function selectPath(value: unknown, path: string | null | undefined, field: string, context: unknown): unknown {
  if (path === undefined) return value;
  if (path === null) return {};
  const result = resolvePath(value, path, context);
  if (!result.found)
    throw new StatesRuntimeError('States.Runtime', `Invalid ${field} '${path}': the path matches nothing`);
  return result.value;
}

/**
 * Applies ResultPath (spec § "ResultPath"): `undefined`/`$` → the result, `null` → the raw input, otherwise the
 * result is written into a copy of the raw input. Failure raises `States.ResultPathMatchFailure`.
 *
 * @example
 * applyResultPath({ a: 1 }, { ok: true }, '$.result'); // { a: 1, result: { ok: true } }
 */
export function applyResultPath(rawInput: unknown, result: unknown, resultPath: string | null | undefined): unknown {
  if (resultPath === undefined) return result;
  if (resultPath === null) return rawInput;
  const set = setAtReferencePath(rawInput, resultPath, result);
  if (!set.ok) {
    throw new StatesRuntimeError(
      'States.ResultPathMatchFailure',
      `Unable to apply ResultPath '${resultPath}' to the state input`,
    );
  }
  return set.value;
}

/**
 * A JSON value for `undefined` (`null`), as a handler's or a caller's missing result is stored and passed on.
 *
 * @example
 * toJsonValue(undefined); // null
 */
export function toJsonValue(value: unknown): unknown {
  return value === undefined ? null : value;
}

/** How a {@link numberField} reached through a path is checked, and named in its error. */
export interface NumberFieldRule {
  /** Who reads it, e.g. `Task 'Send'`. */
  owner: string;
  /** What the value must be, e.g. `a positive integer`. */
  expected: string;
  accepts(value: unknown): value is number;
}

/**
 * A numeric field given as a literal (`field`, validated with the definition) or through a reference path
 * (`<field>Path`) into the effective input; `undefined` when neither is set. A path that matches nothing or a value
 * the rule does not accept is a `States.Runtime` error.
 *
 * @example
 * numberField({ Type: 'Task', TimeoutSecondsPath: '$.t' }, 'TimeoutSeconds', { t: 5 }, rule); // 5
 */
export function numberField(
  state: Record<string, unknown>,
  field: string,
  input: unknown,
  rule: NumberFieldRule,
): number | undefined {
  const literal = state[field];
  if (literal !== undefined) return literal as number;
  const path = state[`${field}Path`];
  if (path === undefined) return undefined;
  const r = resolvePath(input, path as string, {});
  if (!r.found || !rule.accepts(r.value))
    throw new StatesRuntimeError(
      'States.Runtime',
      `${rule.owner}: ${field}Path '${String(path)}' must resolve to ${rule.expected}`,
    );
  return r.value;
}
