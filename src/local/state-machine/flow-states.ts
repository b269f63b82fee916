/**
 * The states that do no work outside the executor (spec § "Pass", "Succeed", "Fail", "Choice", "Wait"):
 * pure functions from a state definition, its raw input and the context object to its output / next state.
 */
import { evaluateChoiceRule } from './choice-rule.js';
import { StatesRuntimeError } from './errors.js';
import { applyPayloadTemplate, applyResultPath, selectPath } from './input-output.js';
import { evaluateIntrinsic, looksLikeIntrinsic } from './intrinsic-functions.js';
import { resolvePath } from './json-path.js';
import type { StateDefinition } from './types.js';

type PathField = string | null | undefined;

/**
 * Output of a Pass state: InputPath → Parameters → Result → ResultPath → OutputPath.
 *
 * @example
 * passOutput({ Type: 'Pass', Result: { x: 1 }, ResultPath: '$.r' }, { a: 1 }, {}); // { a: 1, r: { x: 1 } }
 */
export function passOutput(state: StateDefinition, rawInput: unknown, ctx: unknown): unknown {
  const effective = selectPath(rawInput, state.InputPath as PathField, 'InputPath', ctx);
  const parameters =
    state.Parameters === undefined ? effective : applyPayloadTemplate(state.Parameters, effective, ctx);
  const result = state.Result === undefined ? parameters : state.Result;
  const output = applyResultPath(rawInput, result, state.ResultPath as PathField);
  return selectPath(output, state.OutputPath as PathField, 'OutputPath', ctx);
}

/**
 * Input filtered by InputPath then OutputPath (Succeed, Wait, Choice outputs).
 *
 * @example
 * filteredOutput({ Type: 'Succeed', InputPath: '$.a' }, { a: 1 }, {}); // 1
 */
export function filteredOutput(state: StateDefinition, rawInput: unknown, ctx: unknown): unknown {
  const effective = selectPath(rawInput, state.InputPath as PathField, 'InputPath', ctx);
  return selectPath(effective, state.OutputPath as PathField, 'OutputPath', ctx);
}

/**
 * The error a Fail state raises, from Error/Cause or ErrorPath/CausePath (paths or intrinsic functions).
 *
 * @example
 * failStateError('F', { Type: 'Fail', ErrorPath: '$.code' }, { code: 'E1' }, {}).error; // 'E1'
 */
export function failStateError(
  name: string,
  state: StateDefinition,
  rawInput: unknown,
  ctx: unknown,
): StatesRuntimeError {
  const pick = (literal: unknown, path: unknown): string | undefined => {
    if (typeof literal === 'string') return literal;
    if (typeof path !== 'string') return undefined;
    let value: unknown;
    if (looksLikeIntrinsic(path)) value = evaluateIntrinsic(path, rawInput, ctx);
    else {
      const r = resolvePath(rawInput, path, ctx);
      value = r.found ? r.value : undefined;
    }
    if (typeof value !== 'string')
      throw new StatesRuntimeError('States.Runtime', `Fail state '${name}': ${path} must resolve to a string`);
    return value;
  };
  return new StatesRuntimeError(
    pick(state.Error, state.ErrorPath) ?? 'States.Fail',
    pick(state.Cause, state.CausePath),
  );
}

/**
 * The next state of a Choice: the first matching rule's Next, else Default, else `States.NoChoiceMatched`.
 *
 * @example
 * choiceNext('C', { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'Y' }] }, { x: 1 }, {}); // 'Y'
 */
export function choiceNext(name: string, state: StateDefinition, rawInput: unknown, ctx: unknown): string {
  const effective = selectPath(rawInput, state.InputPath as PathField, 'InputPath', ctx);
  const rules = state.Choices as Array<Record<string, unknown>>;
  const matched = rules.find((r) => evaluateChoiceRule(r, effective, ctx));
  const target = (matched?.Next as string | undefined) ?? (state.Default as string | undefined);
  if (target === undefined) {
    throw new StatesRuntimeError(
      'States.NoChoiceMatched',
      `No Choice rule matched in state '${name}' and there is no Default`,
    );
  }
  return target;
}

/**
 * When a Wait state ends (epoch ms). Seconds count from `enteredAt`, so a resumed Wait keeps its original deadline.
 *
 * @example
 * waitDeadline('W', { Type: 'Wait', Seconds: 2 }, {}, new Date(0), {}); // 2000
 */
export function waitDeadline(
  name: string,
  state: StateDefinition,
  rawInput: unknown,
  enteredAt: Date,
  ctx: unknown,
): number {
  const input = selectPath(rawInput, state.InputPath as PathField, 'InputPath', ctx);
  const fromSeconds = (s: unknown): number => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
      throw new StatesRuntimeError('States.Runtime', `Wait state '${name}': seconds must be a non-negative integer`);
    }
    return enteredAt.getTime() + s * 1000;
  };
  const fromTimestamp = (t: unknown): number => {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (Number.isNaN(ms))
      throw new StatesRuntimeError('States.Runtime', `Wait state '${name}': timestamp is not ISO-8601`);
    return ms;
  };
  const read = (path: string): unknown => {
    const r = resolvePath(input, path, ctx);
    if (!r.found) throw new StatesRuntimeError('States.Runtime', `Wait state '${name}': '${path}' matches nothing`);
    return r.value;
  };
  if (state.Seconds !== undefined) return fromSeconds(state.Seconds);
  if (state.Timestamp !== undefined) return fromTimestamp(state.Timestamp);
  if (state.SecondsPath !== undefined) return fromSeconds(read(state.SecondsPath as string));
  return fromTimestamp(read(state.TimestampPath as string));
}
