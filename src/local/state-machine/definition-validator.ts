/**
 * Strict validation of an ASL definition against what this executor supports. Every problem is reported with the
 * path of the offending state or field; nothing unsupported is silently ignored.
 */
import { CHOICE_OPERATORS, COMPARATORS, TYPE_TESTS } from './choice-rule.js';
import { UnsupportedDefinitionError } from './errors.js';
import type { DefinitionProblem } from './errors.js';
import { IntrinsicSyntaxError, looksLikeIntrinsic, parseIntrinsic } from './intrinsic-functions.js';
import { ITEM_READER_INPUT_TYPES } from './item-reader-input.js';
import { parsePath } from './json-path.js';
import type { StateMachineDefinition } from './types.js';

/** Suffix of the callback integration pattern. */
export const WAIT_FOR_TASK_TOKEN = '.waitForTaskToken';
/** Resource of the only ItemReader supported. */
export const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
/** Resource of the only ResultWriter supported (the handler receives `{Bucket, Key, Body}`). */
export const S3_PUT_OBJECT = 'arn:aws:states:::s3:putObject';

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const IO = ['InputPath', 'OutputPath'];
const TRANSITION = ['Next', 'End'];
const ERRORS = ['Retry', 'Catch'];
/** Map fields that only a DISTRIBUTED Map accepts. */
const DISTRIBUTED_MAP_FIELDS = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'Label',
];
const ALLOWED_FIELDS: Record<string, string[]> = {
  Task: [
    ...COMMON,
    ...IO,
    ...TRANSITION,
    ...ERRORS,
    'Resource',
    'Parameters',
    'ResultSelector',
    'ResultPath',
    'TimeoutSeconds',
    'TimeoutSecondsPath',
    'HeartbeatSeconds',
    'HeartbeatSecondsPath',
  ],
  Pass: [...COMMON, ...IO, ...TRANSITION, 'Parameters', 'Result', 'ResultPath'],
  Choice: [...COMMON, ...IO, 'Choices', 'Default'],
  Wait: [...COMMON, ...IO, ...TRANSITION, 'Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'],
  Succeed: [...COMMON, ...IO],
  Fail: [...COMMON, 'Error', 'Cause', 'ErrorPath', 'CausePath'],
  Parallel: [...COMMON, ...IO, ...TRANSITION, ...ERRORS, 'Branches', 'Parameters', 'ResultSelector', 'ResultPath'],
  Map: [
    ...COMMON,
    ...IO,
    ...TRANSITION,
    ...ERRORS,
    'ItemProcessor',
    'Iterator',
    'ItemsPath',
    'ItemSelector',
    'Parameters',
    'ResultSelector',
    'ResultPath',
    'MaxConcurrency',
    'MaxConcurrencyPath',
    ...DISTRIBUTED_MAP_FIELDS,
  ],
};
/** Fields we know from ASL but deliberately refuse, with the reason. */
const REFUSED_FIELDS: Record<string, string> = {
  Arguments: 'JSONata Arguments are not supported (JSONPath only)',
  Output: 'JSONata Output is not supported (JSONPath only)',
  Assign: 'workflow variables (Assign) are not supported',
  Credentials: 'cross-account Credentials are not supported',
  Items: 'JSONata Items is not supported (use ItemsPath)',
};

type Problems = DefinitionProblem[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isNonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Parses ASL JSON text (or accepts an object) without validating semantics.
 * Throws {@link UnsupportedDefinitionError} when the text is not a JSON object.
 *
 * @example
 * const def = loadDefinition('{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}');
 */
export function loadDefinition(json: string | object): StateMachineDefinition {
  let parsed: unknown = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new UnsupportedDefinitionError([
        { path: '(definition)', message: `not valid JSON: ${(e as Error).message}` },
      ]);
    }
  }
  if (!isObject(parsed))
    throw new UnsupportedDefinitionError([{ path: '(definition)', message: 'must be a JSON object' }]);
  return parsed as unknown as StateMachineDefinition;
}

/** Splits a Task resource into its handler key and integration pattern. */
export function splitResource(resource: string): {
  key: string;
  pattern: 'request-response' | 'waitForTaskToken' | 'sync';
} {
  if (resource.endsWith(WAIT_FOR_TASK_TOKEN))
    return { key: resource.slice(0, -WAIT_FOR_TASK_TOKEN.length), pattern: 'waitForTaskToken' };
  const sync = /\.sync(:\d+)?$/.exec(resource);
  if (sync) return { key: resource.slice(0, sync.index), pattern: 'sync' };
  return { key: resource, pattern: 'request-response' };
}

function checkPath(
  problems: Problems,
  where: string,
  value: unknown,
  options: { reference?: boolean; nullable?: boolean; context?: boolean } = {},
): void {
  if (value === undefined) return;
  if (value === null) {
    if (!options.nullable) problems.push({ path: where, message: 'must not be null' });
    return;
  }
  if (typeof value !== 'string') {
    problems.push({ path: where, message: 'must be a JSONPath string' });
    return;
  }
  try {
    const parsed = parsePath(value);
    if (parsed.context && options.context === false)
      problems.push({ path: where, message: `context paths ('$$') are not allowed here` });
    if (options.reference && !parsed.isReference)
      problems.push({ path: where, message: `'${value}' must be a Reference Path (names and indexes only)` });
  } catch (e) {
    problems.push({ path: where, message: (e as Error).message });
  }
}

function checkPathOrIntrinsic(problems: Problems, where: string, value: unknown): void {
  if (typeof value !== 'string') {
    problems.push({ path: where, message: 'must be a JSONPath or intrinsic function string' });
    return;
  }
  if (looksLikeIntrinsic(value)) {
    try {
      parseIntrinsic(value);
    } catch (e) {
      problems.push({ path: where, message: e instanceof IntrinsicSyntaxError ? e.message : String(e) });
    }
  } else checkPath(problems, where, value);
}

function checkTemplate(problems: Problems, where: string, template: unknown): void {
  if (Array.isArray(template)) template.forEach((v, i) => checkTemplate(problems, `${where}[${i}]`, v));
  else if (isObject(template)) {
    for (const [k, v] of Object.entries(template)) {
      if (k.endsWith('.$')) checkPathOrIntrinsic(problems, `${where}.${k}`, v);
      else checkTemplate(problems, `${where}.${k}`, v);
    }
  }
}

function templateReferencesTaskToken(template: unknown): boolean {
  if (Array.isArray(template)) return template.some(templateReferencesTaskToken);
  if (!isObject(template)) return false;
  return Object.entries(template).some(([k, v]) =>
    k.endsWith('.$') && typeof v === 'string' ? v.includes('$$.Task.Token') : templateReferencesTaskToken(v),
  );
}

function checkErrorEquals(problems: Problems, where: string, list: unknown, isLast: boolean): void {
  if (!Array.isArray(list) || list.length === 0 || !list.every((e) => typeof e === 'string')) {
    problems.push({ path: `${where}.ErrorEquals`, message: 'must be a non-empty array of error names' });
    return;
  }
  if (list.includes('States.ALL') && (list.length > 1 || !isLast)) {
    problems.push({
      path: `${where}.ErrorEquals`,
      message: "'States.ALL' must appear alone, in the last Retrier/Catcher (spec § Retrying after error)",
    });
  }
}

interface Scope {
  names: Set<string>;
  allNames: Map<string, string>;
  resourceKeys: Set<string>;
  expressChild: boolean;
}

function checkRetryCatch(problems: Problems, where: string, state: Record<string, unknown>, scope: Scope): void {
  if (state.Retry !== undefined) {
    if (!Array.isArray(state.Retry)) problems.push({ path: `${where}.Retry`, message: 'must be an array of Retriers' });
    else
      state.Retry.forEach((r, i) => {
        const at = `${where}.Retry[${i}]`;
        if (!isObject(r)) return problems.push({ path: at, message: 'must be an object' }) as unknown as void;
        for (const k of Object.keys(r))
          if (
            ![
              'ErrorEquals',
              'IntervalSeconds',
              'MaxAttempts',
              'BackoffRate',
              'MaxDelaySeconds',
              'JitterStrategy',
              'Comment',
            ].includes(k)
          )
            problems.push({ path: `${at}.${k}`, message: `unknown Retrier field '${k}'` });
        checkErrorEquals(problems, at, r.ErrorEquals, i === (state.Retry as unknown[]).length - 1);
        if (r.IntervalSeconds !== undefined && !isPositiveInt(r.IntervalSeconds))
          problems.push({ path: `${at}.IntervalSeconds`, message: 'must be a positive integer' });
        if (r.MaxAttempts !== undefined && !isNonNegativeInt(r.MaxAttempts))
          problems.push({ path: `${at}.MaxAttempts`, message: 'must be a non-negative integer' });
        if (r.BackoffRate !== undefined && !(typeof r.BackoffRate === 'number' && r.BackoffRate >= 1))
          problems.push({ path: `${at}.BackoffRate`, message: 'must be a number >= 1.0' });
        if (r.MaxDelaySeconds !== undefined && !isPositiveInt(r.MaxDelaySeconds))
          problems.push({ path: `${at}.MaxDelaySeconds`, message: 'must be a positive integer' });
        if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE')
          problems.push({ path: `${at}.JitterStrategy`, message: "must be 'FULL' or 'NONE'" });
      });
  }
  if (state.Catch !== undefined) {
    if (!Array.isArray(state.Catch)) problems.push({ path: `${where}.Catch`, message: 'must be an array of Catchers' });
    else
      state.Catch.forEach((c, i) => {
        const at = `${where}.Catch[${i}]`;
        if (!isObject(c)) return problems.push({ path: at, message: 'must be an object' }) as unknown as void;
        for (const k of Object.keys(c))
          if (!['ErrorEquals', 'Next', 'ResultPath', 'Comment'].includes(k))
            problems.push({ path: `${at}.${k}`, message: REFUSED_FIELDS[k] ?? `unknown Catcher field '${k}'` });
        checkErrorEquals(problems, at, c.ErrorEquals, i === (state.Catch as unknown[]).length - 1);
        checkNext(problems, `${at}.Next`, c.Next, scope);
        checkPath(problems, `${at}.ResultPath`, c.ResultPath, { reference: true, nullable: true, context: false });
      });
  }
}

function checkNext(problems: Problems, where: string, next: unknown, scope: Scope): void {
  if (typeof next !== 'string') problems.push({ path: where, message: 'must name a state' });
  else if (!scope.names.has(next)) problems.push({ path: where, message: `'${next}' is not a state in this scope` });
}

function checkChoiceRule(problems: Problems, where: string, rule: unknown, topLevel: boolean, scope: Scope): void {
  if (!isObject(rule)) {
    problems.push({ path: where, message: 'Choice rule must be an object' });
    return;
  }
  if (topLevel) checkNext(problems, `${where}.Next`, rule.Next, scope);
  else if (rule.Next !== undefined)
    problems.push({ path: `${where}.Next`, message: 'nested Choice rules must not have Next' });
  const combinators = ['And', 'Or', 'Not'].filter((k) => rule[k] !== undefined);
  const operators = CHOICE_OPERATORS.filter((k) => rule[k] !== undefined);
  for (const k of Object.keys(rule)) {
    if (!['Next', 'Comment', 'Variable', 'And', 'Or', 'Not', ...CHOICE_OPERATORS].includes(k)) {
      problems.push({
        path: `${where}.${k}`,
        message:
          REFUSED_FIELDS[k] ??
          (k === 'Condition' ? 'JSONata Condition is not supported' : `unknown Choice rule field '${k}'`),
      });
    }
  }
  if (combinators.length + operators.length !== 1) {
    problems.push({
      path: where,
      message: 'a Choice rule must have exactly one comparison operator or one of And/Or/Not',
    });
    return;
  }
  if (combinators.length === 1) {
    const c = combinators[0] as string;
    if (rule.Variable !== undefined) problems.push({ path: `${where}.Variable`, message: `not allowed with ${c}` });
    if (c === 'Not') checkChoiceRule(problems, `${where}.Not`, rule.Not, false, scope);
    else if (!Array.isArray(rule[c]) || (rule[c] as unknown[]).length === 0)
      problems.push({ path: `${where}.${c}`, message: 'must be a non-empty array of rules' });
    else (rule[c] as unknown[]).forEach((r, i) => checkChoiceRule(problems, `${where}.${c}[${i}]`, r, false, scope));
    return;
  }
  const op = operators[0] as string;
  if (typeof rule.Variable !== 'string') problems.push({ path: `${where}.Variable`, message: 'required: a JSONPath' });
  else checkPath(problems, `${where}.Variable`, rule.Variable);
  const value = rule[op];
  if (op.endsWith('Path')) checkPath(problems, `${where}.${op}`, value);
  else if ((TYPE_TESTS as readonly string[]).includes(op)) {
    if (typeof value !== 'boolean') problems.push({ path: `${where}.${op}`, message: 'must be a boolean' });
  } else if (op === 'StringMatches') {
    if (typeof value !== 'string') problems.push({ path: `${where}.${op}`, message: 'must be a string' });
  } else {
    const kind = COMPARATORS[op];
    const ok =
      kind === 'number'
        ? typeof value === 'number'
        : kind === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'string';
    if (!ok)
      problems.push({
        path: `${where}.${op}`,
        message: `must be a ${kind === 'timestamp' ? 'timestamp string' : kind}`,
      });
  }
}

function checkStates(problems: Problems, where: string, machine: unknown, scope: Omit<Scope, 'names'>): void {
  if (!isObject(machine)) {
    problems.push({ path: where || '(definition)', message: 'must be an object with StartAt and States' });
    return;
  }
  const prefix = where ? `${where}.` : '';
  const allowedTop = where
    ? ['StartAt', 'States', 'Comment', 'ProcessorConfig']
    : ['StartAt', 'States', 'Comment', 'TimeoutSeconds', 'Version', 'QueryLanguage'];
  for (const k of Object.keys(machine)) {
    if (!allowedTop.includes(k))
      problems.push({ path: `${prefix}${k}`, message: REFUSED_FIELDS[k] ?? `unknown field '${k}'` });
  }
  if (!isObject(machine.States) || Object.keys(machine.States).length === 0) {
    problems.push({ path: `${prefix}States`, message: 'must be a non-empty object' });
    return;
  }
  const names = new Set(Object.keys(machine.States));
  const full: Scope = { ...scope, names };
  if (typeof machine.StartAt !== 'string' || !names.has(machine.StartAt)) {
    problems.push({
      path: `${prefix}StartAt`,
      message: `must name a state in States (got ${JSON.stringify(machine.StartAt)})`,
    });
  }
  for (const [name, state] of Object.entries(machine.States)) {
    const at = `${prefix}States.${name}`;
    if (name.length > 80) problems.push({ path: at, message: 'state names must be at most 80 characters' });
    const seen = scope.allNames.get(name);
    if (seen !== undefined) problems.push({ path: at, message: `state name is not unique (also at ${seen})` });
    scope.allNames.set(name, at);
    checkState(problems, at, state, full);
  }
}

function checkState(problems: Problems, at: string, state: unknown, scope: Scope): void {
  if (!isObject(state)) {
    problems.push({ path: at, message: 'state must be an object' });
    return;
  }
  const type = state.Type;
  const allowed = typeof type === 'string' ? ALLOWED_FIELDS[type] : undefined;
  if (!allowed) {
    problems.push({
      path: `${at}.Type`,
      message: `unsupported state type ${JSON.stringify(type)} (supported: ${Object.keys(ALLOWED_FIELDS).join(', ')})`,
    });
    return;
  }
  for (const k of Object.keys(state)) {
    if (!allowed.includes(k))
      problems.push({ path: `${at}.${k}`, message: REFUSED_FIELDS[k] ?? `unknown field '${k}' for a ${type} state` });
  }
  if (state.QueryLanguage !== undefined && state.QueryLanguage !== 'JSONPath') {
    problems.push({
      path: `${at}.QueryLanguage`,
      message: `QueryLanguage ${JSON.stringify(state.QueryLanguage)} is not supported (JSONPath only)`,
    });
  }
  const terminalType = type === 'Succeed' || type === 'Fail' || type === 'Choice';
  if (!terminalType) {
    if (state.End !== undefined && state.End !== true)
      problems.push({ path: `${at}.End`, message: 'must be true when present' });
    if (state.Next !== undefined && state.End !== undefined)
      problems.push({ path: at, message: 'must not have both Next and End' });
    else if (state.Next === undefined && state.End === undefined)
      problems.push({ path: at, message: 'must have Next or End' });
    else if (state.Next !== undefined) checkNext(problems, `${at}.Next`, state.Next, scope);
  }
  checkPath(problems, `${at}.InputPath`, state.InputPath, { nullable: true });
  checkPath(problems, `${at}.OutputPath`, state.OutputPath, { nullable: true });
  checkPath(problems, `${at}.ResultPath`, state.ResultPath, { reference: true, nullable: true, context: false });
  if (state.Parameters !== undefined) checkTemplate(problems, `${at}.Parameters`, state.Parameters);
  if (state.ResultSelector !== undefined) checkTemplate(problems, `${at}.ResultSelector`, state.ResultSelector);
  checkRetryCatch(problems, at, state, scope);

  switch (type) {
    case 'Task':
      checkTask(problems, at, state, scope);
      break;
    case 'Choice':
      if (!Array.isArray(state.Choices) || state.Choices.length === 0)
        problems.push({ path: `${at}.Choices`, message: 'must be a non-empty array' });
      else state.Choices.forEach((r, i) => checkChoiceRule(problems, `${at}.Choices[${i}]`, r, true, scope));
      if (state.Default !== undefined) checkNext(problems, `${at}.Default`, state.Default, scope);
      break;
    case 'Wait': {
      const given = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((k) => state[k] !== undefined);
      if (given.length !== 1)
        problems.push({
          path: at,
          message: 'a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath',
        });
      if (state.Seconds !== undefined && !isNonNegativeInt(state.Seconds))
        problems.push({ path: `${at}.Seconds`, message: 'must be a non-negative integer' });
      if (
        state.Timestamp !== undefined &&
        (typeof state.Timestamp !== 'string' || Number.isNaN(Date.parse(state.Timestamp)))
      )
        problems.push({ path: `${at}.Timestamp`, message: 'must be an ISO-8601 timestamp' });
      checkPath(problems, `${at}.SecondsPath`, state.SecondsPath, { reference: true });
      checkPath(problems, `${at}.TimestampPath`, state.TimestampPath, { reference: true });
      break;
    }
    case 'Fail':
      if (state.Error !== undefined && state.ErrorPath !== undefined)
        problems.push({ path: at, message: 'Error and ErrorPath are mutually exclusive' });
      if (state.Cause !== undefined && state.CausePath !== undefined)
        problems.push({ path: at, message: 'Cause and CausePath are mutually exclusive' });
      if (state.ErrorPath !== undefined) checkPathOrIntrinsic(problems, `${at}.ErrorPath`, state.ErrorPath);
      if (state.CausePath !== undefined) checkPathOrIntrinsic(problems, `${at}.CausePath`, state.CausePath);
      break;
    case 'Parallel':
      if (!Array.isArray(state.Branches) || state.Branches.length === 0)
        problems.push({ path: `${at}.Branches`, message: 'must be a non-empty array' });
      else state.Branches.forEach((b, i) => checkStates(problems, `${at}.Branches[${i}]`, b, scope));
      break;
    case 'Map':
      checkMap(problems, at, state, scope);
      break;
    default:
      break;
  }
}

function checkTask(problems: Problems, at: string, state: Record<string, unknown>, scope: Scope): void {
  if (typeof state.Resource !== 'string') {
    problems.push({ path: `${at}.Resource`, message: 'required: a resource ARN' });
  } else {
    const { key, pattern } = splitResource(state.Resource);
    if (pattern === 'sync')
      problems.push({
        path: `${at}.Resource`,
        message: `the .sync integration pattern is not supported ('${state.Resource}')`,
      });
    else if (/^arn:aws:states:[^:]*:[^:]*:activity:/.test(key))
      problems.push({ path: `${at}.Resource`, message: 'activities are not supported' });
    else if (!scope.resourceKeys.has(key))
      problems.push({ path: `${at}.Resource`, message: `no handler is bound for resource '${key}'` });
    if (pattern === 'waitForTaskToken') {
      if (scope.expressChild)
        problems.push({
          path: `${at}.Resource`,
          message: '.waitForTaskToken is not supported in EXPRESS child workflows',
        });
      if (!templateReferencesTaskToken(state.Parameters)) {
        problems.push({
          path: `${at}.Parameters`,
          message: ".waitForTaskToken requires Parameters to pass '$$.Task.Token'",
        });
      }
    }
    if (
      (state.HeartbeatSeconds !== undefined || state.HeartbeatSecondsPath !== undefined) &&
      pattern !== 'waitForTaskToken'
    ) {
      problems.push({
        path: `${at}.HeartbeatSeconds`,
        message: 'heartbeats are only supported for .waitForTaskToken tasks',
      });
    }
  }
  if (state.TimeoutSeconds !== undefined && state.TimeoutSecondsPath !== undefined)
    problems.push({ path: at, message: 'TimeoutSeconds and TimeoutSecondsPath are mutually exclusive' });
  if (state.HeartbeatSeconds !== undefined && state.HeartbeatSecondsPath !== undefined)
    problems.push({ path: at, message: 'HeartbeatSeconds and HeartbeatSecondsPath are mutually exclusive' });
  if (state.TimeoutSeconds !== undefined && !isPositiveInt(state.TimeoutSeconds))
    problems.push({ path: `${at}.TimeoutSeconds`, message: 'must be a positive integer' });
  if (state.HeartbeatSeconds !== undefined && !isPositiveInt(state.HeartbeatSeconds))
    problems.push({ path: `${at}.HeartbeatSeconds`, message: 'must be a positive integer' });
  if (
    isPositiveInt(state.TimeoutSeconds) &&
    isPositiveInt(state.HeartbeatSeconds) &&
    state.HeartbeatSeconds >= state.TimeoutSeconds
  ) {
    problems.push({ path: `${at}.HeartbeatSeconds`, message: 'must be smaller than TimeoutSeconds' });
  }
  checkPath(problems, `${at}.TimeoutSecondsPath`, state.TimeoutSecondsPath, { reference: true });
  checkPath(problems, `${at}.HeartbeatSecondsPath`, state.HeartbeatSecondsPath, { reference: true });
}

function checkMap(problems: Problems, at: string, state: Record<string, unknown>, scope: Scope): void {
  if (state.ItemProcessor !== undefined && state.Iterator !== undefined)
    problems.push({ path: at, message: 'ItemProcessor and Iterator are mutually exclusive' });
  if (state.ItemSelector !== undefined && state.Parameters !== undefined)
    problems.push({ path: at, message: 'ItemSelector and Parameters are mutually exclusive' });
  const processor = state.ItemProcessor ?? state.Iterator;
  const processorField = state.ItemProcessor !== undefined ? 'ItemProcessor' : 'Iterator';
  let mode = 'INLINE';
  let executionType = 'STANDARD';
  if (processor === undefined) problems.push({ path: at, message: 'needs an ItemProcessor (or legacy Iterator)' });
  else if (isObject(processor)) {
    const config = processor.ProcessorConfig;
    if (config !== undefined) {
      if (!isObject(config))
        problems.push({ path: `${at}.${processorField}.ProcessorConfig`, message: 'must be an object' });
      else {
        for (const k of Object.keys(config))
          if (k !== 'Mode' && k !== 'ExecutionType')
            problems.push({
              path: `${at}.${processorField}.ProcessorConfig.${k}`,
              message: `unknown ProcessorConfig field '${k}'`,
            });
        if (config.Mode !== undefined && config.Mode !== 'INLINE' && config.Mode !== 'DISTRIBUTED')
          problems.push({
            path: `${at}.${processorField}.ProcessorConfig.Mode`,
            message: "must be 'INLINE' or 'DISTRIBUTED'",
          });
        mode = (config.Mode as string | undefined) ?? 'INLINE';
        if (config.ExecutionType !== undefined) {
          if (mode !== 'DISTRIBUTED')
            problems.push({
              path: `${at}.${processorField}.ProcessorConfig.ExecutionType`,
              message: 'only valid with Mode DISTRIBUTED',
            });
          else if (config.ExecutionType !== 'STANDARD' && config.ExecutionType !== 'EXPRESS')
            problems.push({
              path: `${at}.${processorField}.ProcessorConfig.ExecutionType`,
              message: "must be 'STANDARD' or 'EXPRESS'",
            });
          executionType = config.ExecutionType as string;
        } else if (mode === 'DISTRIBUTED')
          problems.push({
            path: `${at}.${processorField}.ProcessorConfig.ExecutionType`,
            message: 'required with Mode DISTRIBUTED',
          });
      }
    }
  }
  if (processor !== undefined)
    checkStates(problems, `${at}.${processorField}`, processor, {
      ...scope,
      expressChild: scope.expressChild || executionType === 'EXPRESS',
    });
  const distributed = mode === 'DISTRIBUTED';
  for (const k of DISTRIBUTED_MAP_FIELDS) {
    if (state[k] !== undefined && !distributed)
      problems.push({ path: `${at}.${k}`, message: `${k} requires ItemProcessor.ProcessorConfig.Mode DISTRIBUTED` });
  }
  if (state.ItemSelector !== undefined) checkTemplate(problems, `${at}.ItemSelector`, state.ItemSelector);
  checkPath(problems, `${at}.ItemsPath`, state.ItemsPath, { reference: true });
  if (state.ItemsPath !== undefined && state.ItemReader !== undefined)
    problems.push({ path: `${at}.ItemsPath`, message: 'ItemsPath cannot be combined with ItemReader' });
  if (state.MaxConcurrency !== undefined && !isNonNegativeInt(state.MaxConcurrency))
    problems.push({ path: `${at}.MaxConcurrency`, message: 'must be a non-negative integer' });
  checkPath(problems, `${at}.MaxConcurrencyPath`, state.MaxConcurrencyPath, { reference: true });
  checkPath(problems, `${at}.ToleratedFailurePercentagePath`, state.ToleratedFailurePercentagePath, {
    reference: true,
  });
  checkPath(problems, `${at}.ToleratedFailureCountPath`, state.ToleratedFailureCountPath, { reference: true });
  if (
    state.ToleratedFailurePercentage !== undefined &&
    !(
      typeof state.ToleratedFailurePercentage === 'number' &&
      state.ToleratedFailurePercentage >= 0 &&
      state.ToleratedFailurePercentage <= 100
    )
  ) {
    problems.push({ path: `${at}.ToleratedFailurePercentage`, message: 'must be a number between 0 and 100' });
  }
  if (state.ToleratedFailureCount !== undefined && !isNonNegativeInt(state.ToleratedFailureCount))
    problems.push({ path: `${at}.ToleratedFailureCount`, message: 'must be a non-negative integer' });
  if (state.ItemReader !== undefined) checkItemReader(problems, `${at}.ItemReader`, state.ItemReader, scope);
  if (state.ResultWriter !== undefined) checkResultWriter(problems, `${at}.ResultWriter`, state.ResultWriter, scope);
  if (state.ItemBatcher !== undefined) {
    const b = state.ItemBatcher;
    if (!isObject(b)) problems.push({ path: `${at}.ItemBatcher`, message: 'must be an object' });
    else {
      for (const k of Object.keys(b))
        if (k !== 'MaxItemsPerBatch' && k !== 'BatchInput')
          problems.push({
            path: `${at}.ItemBatcher.${k}`,
            message: `ItemBatcher field '${k}' is not supported (only MaxItemsPerBatch and BatchInput)`,
          });
      if (!isPositiveInt(b.MaxItemsPerBatch))
        problems.push({ path: `${at}.ItemBatcher.MaxItemsPerBatch`, message: 'required: a positive integer' });
      if (b.BatchInput !== undefined) checkTemplate(problems, `${at}.ItemBatcher.BatchInput`, b.BatchInput);
    }
  }
}

function checkItemReader(problems: Problems, at: string, reader: unknown, scope: Scope): void {
  if (!isObject(reader)) {
    problems.push({ path: at, message: 'must be an object' });
    return;
  }
  for (const k of Object.keys(reader))
    if (!['Resource', 'ReaderConfig', 'Parameters'].includes(k))
      problems.push({ path: `${at}.${k}`, message: `ItemReader field '${k}' is not supported` });
  checkS3Resource(problems, at, reader.Resource, S3_GET_OBJECT, scope);
  const config = reader.ReaderConfig;
  if (!isObject(config) || !(ITEM_READER_INPUT_TYPES as readonly unknown[]).includes(config.InputType))
    problems.push({ path: `${at}.ReaderConfig.InputType`, message: "only InputType 'JSON' or 'JSONL' is supported" });
  else
    for (const k of Object.keys(config)) {
      if (k === 'MaxItems') {
        if (!isPositiveInt(config.MaxItems))
          problems.push({ path: `${at}.ReaderConfig.MaxItems`, message: 'must be a positive integer' });
      } else if (k !== 'InputType')
        problems.push({ path: `${at}.ReaderConfig.${k}`, message: `ReaderConfig field '${k}' is not supported` });
    }
  checkS3Parameters(problems, at, reader.Parameters, 'ItemReader', ['Bucket', 'Key'], ['Bucket', 'Key']);
}

function checkResultWriter(problems: Problems, at: string, writer: unknown, scope: Scope): void {
  if (!isObject(writer)) {
    problems.push({ path: at, message: 'must be an object' });
    return;
  }
  for (const k of Object.keys(writer))
    if (k === 'WriterConfig')
      problems.push({
        path: `${at}.WriterConfig`,
        message:
          'WriterConfig is not supported (results are written as AWS does without it: Transformation NONE, JSON)',
      });
    else if (!['Resource', 'Parameters'].includes(k))
      problems.push({ path: `${at}.${k}`, message: `ResultWriter field '${k}' is not supported` });
  checkS3Resource(problems, at, writer.Resource, S3_PUT_OBJECT, scope);
  checkS3Parameters(problems, at, writer.Parameters, 'ResultWriter', ['Bucket', 'Prefix'], ['Bucket']);
}

/** The Resource of an ItemReader / ResultWriter: only `resource`, and a handler must be bound for it. */
function checkS3Resource(problems: Problems, at: string, value: unknown, resource: string, scope: Scope): void {
  if (value !== resource)
    problems.push({
      path: `${at}.Resource`,
      message: `only '${resource}' is supported (got ${JSON.stringify(value)})`,
    });
  else if (!scope.resourceKeys.has(resource))
    problems.push({ path: `${at}.Resource`, message: `no handler is bound for resource '${resource}'` });
}

/**
 * The Parameters of an ItemReader / ResultWriter: an object of the two `fields` only (each literal or `<field>.$`),
 * with the `required` ones present.
 */
function checkS3Parameters(
  problems: Problems,
  at: string,
  parameters: unknown,
  role: 'ItemReader' | 'ResultWriter',
  fields: readonly [string, string],
  required: readonly string[],
): void {
  if (!isObject(parameters)) {
    problems.push({ path: `${at}.Parameters`, message: `required: {${fields.join(', ')}}` });
    return;
  }
  const allowed = fields.flatMap((f) => [f, `${f}.$`]);
  for (const k of Object.keys(parameters))
    if (!allowed.includes(k))
      problems.push({
        path: `${at}.Parameters.${k}`,
        message: `${role} parameter '${k}' is not supported (only ${fields.join(' and ')})`,
      });
  for (const f of required)
    if (parameters[f] === undefined && parameters[`${f}.$`] === undefined)
      problems.push({ path: `${at}.Parameters.${f}`, message: 'required' });
  checkTemplate(problems, `${at}.Parameters`, parameters);
}

/**
 * Validates a definition against the ASL spec and this executor's supported subset.
 * Returns every problem (empty when the definition can run). `resourceKeys` are the bound handler keys.
 *
 * @example
 * const problems = validateDefinition(loadDefinition(json), ['arn:aws:states:::sqs:sendMessage']);
 * if (problems.length) console.error(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
 */
export function validateDefinition(definition: unknown, resourceKeys: Iterable<string>): DefinitionProblem[] {
  const problems: Problems = [];
  if (!isObject(definition)) return [{ path: '(definition)', message: 'must be a JSON object' }];
  if (definition.QueryLanguage !== undefined && definition.QueryLanguage !== 'JSONPath') {
    problems.push({
      path: 'QueryLanguage',
      message: `QueryLanguage ${JSON.stringify(definition.QueryLanguage)} is not supported (JSONPath only)`,
    });
  }
  if (definition.TimeoutSeconds !== undefined && !isPositiveInt(definition.TimeoutSeconds))
    problems.push({ path: 'TimeoutSeconds', message: 'must be a positive integer' });
  if (definition.Version !== undefined && definition.Version !== '1.0')
    problems.push({ path: 'Version', message: "only '1.0' is supported" });
  checkStates(problems, '', definition, {
    allNames: new Map(),
    resourceKeys: new Set(resourceKeys),
    expressChild: false,
  });
  return problems;
}
