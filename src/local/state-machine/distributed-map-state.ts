/**
 * Distributed Map states (AWS "Map state in Distributed mode"): items from the ItemReader (s3:getObject) or ItemsPath,
 * optionally batched (ItemBatcher); each item or batch runs as a child execution with its own `$$.Execution`. Finished
 * items are saved durably as they end, so a resumed state re-runs only the others. Failures up to the tolerated
 * threshold become `{Error, Cause}` outputs; the ResultWriter (s3:putObject) writes the results as AWS does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { linkedController, raceSignal } from './abortable.js';
import { S3_GET_OBJECT, S3_PUT_OBJECT } from './definition-validator.js';
import { BranchCancelled, ExecutionInterrupted, StatesRuntimeError, errorOutput, toStatesError } from './errors.js';
import { applyPayloadTemplate } from './input-output.js';
import { itemsOfObject, type ItemReaderInputType } from './item-reader-input.js';
import { itemProcessor, itemSelector, itemsFromPath, mapNumber, maxConcurrency } from './map-state.js';
import { runAll } from './parallel-state.js';
import { writeMapRunResults } from './result-writer.js';
import type { MapRunChildResult } from './result-writer.js';
import { stateMachineName } from './state-context.js';
import type { RunContext, StateAttempt, StateContext } from './state-context.js';
import { exceedsToleratedFailures } from './tolerated-failures.js';

/** Concurrency used for a Distributed Map whose MaxConcurrency is 0 (AWS allows 10,000; one process can't). */
export const MAX_DISTRIBUTED_CONCURRENCY = 1000;

/**
 * Runs one attempt of a Distributed Map state: the child outputs in item order (failed ones as `{Error, Cause}`),
 * or with a ResultWriter `{MapRunArn, ResultWriterDetails}`. Emits MapRunStarted, MapItemSucceeded / MapItemFailed,
 * then MapRunSucceeded or MapRunFailed.
 *
 * @example
 * const outputs = await runDistributedMapState(context, { name: 'ProcessFiles', state, input, rc, enteredAt, retryCount: 0 });
 */
export async function runDistributedMapState(ctx: StateContext, attempt: StateAttempt): Promise<unknown> {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const processor = itemProcessor(state);
  const items = state.ItemReader ? await readItems(ctx, attempt) : itemsFromPath(name, state, effective);
  const concurrency = maxConcurrency(name, state, effective, MAX_DISTRIBUTED_CONCURRENCY);
  const executionArn = rc.executionArn;
  // The key is stable across a recovery of the same state entry, so finished items are not re-run.
  const mapKey = rc.depth === 0 ? `${name}#${enteredAt.getTime()}#${retryCount}` : `${name}#${randomUUID()}`;
  const units = childInputs(ctx, attempt, items);
  const total = units.length;
  const toleratedCount = mapNumber(name, state, 'ToleratedFailureCount', effective);
  const toleratedPercentage = mapNumber(name, state, 'ToleratedFailurePercentage', effective);
  const exceeded = (failures: number): boolean =>
    exceedsToleratedFailures({ failures, total, toleratedCount, toleratedPercentage });
  const finished = ctx.store.mapItems(executionArn, mapKey);
  const done = new Set(finished.map((r) => r.index));
  let failures = finished.filter((r) => !r.succeeded).length;
  finished.length = 0;
  const todo = Array.from({ length: total }, (_, i) => i).filter((i) => !done.has(i));
  ctx.emitStateEvent(rc, name, 'MapRunStarted', { items: total, resumed: done.size });
  const childOf = childExecutions(ctx, attempt);
  let succeeded = done.size - failures;
  try {
    if (exceeded(failures))
      throw new StatesRuntimeError(
        'States.ExceedToleratedFailureThreshold',
        `Map '${name}': ${failures} of ${total} items failed`,
      );
    await runAll(todo.length, concurrency, rc, async (k, child) => {
      const index = todo[k] as number;
      const childRc: RunContext = {
        ...child,
        execution: {
          ...childOf(index),
          StartTime: ctx.clock.now().toISOString(),
          Input: null,
        },
      };
      const input = (units[index] as () => unknown)();
      childRc.execution.Input = input;
      try {
        const output = await ctx.runScope(processor, input, childRc);
        if (!ctx.isClosed()) ctx.store.saveMapItem(executionArn, mapKey, { index, succeeded: true, output });
        succeeded++;
        ctx.emitStateEvent(rc, name, 'MapItemSucceeded', { index });
      } catch (e) {
        if (e instanceof ExecutionInterrupted || e instanceof BranchCancelled || child.signal.aborted) throw e;
        const err = toStatesError(e);
        failures++;
        if (!ctx.isClosed())
          ctx.store.saveMapItem(executionArn, mapKey, { index, succeeded: false, output: errorOutput(err) });
        ctx.emitStateEvent(rc, name, 'MapItemFailed', { index, error: err.error });
        if (exceeded(failures))
          throw new StatesRuntimeError(
            'States.ExceedToleratedFailureThreshold',
            `Map '${name}': ${failures} of ${total} items failed (last: ${err.error})`,
          );
      }
    });
  } catch (e) {
    if (!(e instanceof ExecutionInterrupted) && !rc.signal.aborted) {
      // Only an interrupted run keeps its finished items (for recovery); a failed run starts afresh on retry.
      ctx.store.clearMapItems(executionArn, mapKey);
      ctx.emitStateEvent(rc, name, 'MapRunFailed', { succeeded, failed: failures });
    }
    throw e;
  }
  ctx.emitStateEvent(rc, name, 'MapRunSucceeded', { succeeded, failed: failures });
  const records = ctx.store.mapItems(executionArn, mapKey);
  if (state.ResultWriter === undefined) {
    ctx.store.clearMapItems(executionArn, mapKey);
    return records.map((r) => r.output);
  }
  try {
    const children = records.map((r): MapRunChildResult => ({
      name: childOf(r.index).Name,
      executionArn: childOf(r.index).Id,
      input: (units[r.index] as () => unknown)(),
      succeeded: r.succeeded,
      output: r.output,
    }));
    const result = await writeResults(ctx, attempt, mapKey, children);
    ctx.store.clearMapItems(executionArn, mapKey);
    return result;
  } catch (e) {
    // Finished items stay for a recovery only when the process is going away.
    if (!(e instanceof ExecutionInterrupted) && !rc.signal.aborted) ctx.store.clearMapItems(executionArn, mapKey);
    throw e;
  }
}

/** The input of each child execution, computed when it starts: one per item, or per batch with an ItemBatcher. */
function childInputs(ctx: StateContext, attempt: StateAttempt, items: unknown[]): Array<() => unknown> {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const selectItem = itemSelector(ctx, attempt);
  const batcher = state.ItemBatcher as { MaxItemsPerBatch: number; BatchInput?: unknown } | undefined;
  if (!batcher) return items.map((v, i) => () => selectItem(v, i));
  const batchInput =
    batcher.BatchInput === undefined
      ? {}
      : (applyPayloadTemplate(
          batcher.BatchInput,
          effective,
          ctx.contextObject(rc, name, enteredAt, retryCount),
        ) as Record<string, unknown>);
  const units: Array<() => unknown> = [];
  for (let start = 0; start < items.length; start += batcher.MaxItemsPerBatch) {
    const from = start;
    units.push(() => ({
      ...batchInput,
      Items: items.slice(from, from + batcher.MaxItemsPerBatch).map((v, j) => selectItem(v, from + j)),
    }));
  }
  return units;
}

/** The Label of a Distributed Map (names its child executions and map run), or the state name. */
function mapLabel(name: string, state: StateAttempt['state']): string {
  return typeof state.Label === 'string' ? state.Label : name;
}

/** The `$$.Execution` Id and Name of the child execution of each item: `<parent>-<Label|state>-<index>`. */
function childExecutions(ctx: StateContext, attempt: StateAttempt): (index: number) => { Id: string; Name: string } {
  const { name, state, rc } = attempt;
  const smName = stateMachineName(ctx.stateMachineArn);
  const label = mapLabel(name, state);
  return (index) => {
    const childName = `${rc.execution.Name}-${label}-${index}`.slice(0, 80);
    return {
      Id: `${rc.executionArn.split(':execution:')[0]}:execution:${smName}/${label}:${childName}`,
      Name: childName,
    };
  };
}

/**
 * Calls the handler bound to an S3 `resource` (the ItemReader's s3:getObject, the ResultWriter's s3:putObject) inside
 * `use`, under a signal linked to the state's. Any failure in `use` becomes `failure.error` with the cause
 * `<role> of '<state>' failed: <error>[: <cause>]`; when the state itself is cancelled, its reason passes through.
 */
async function withS3Handler<T>(
  ctx: StateContext,
  attempt: StateAttempt,
  resource: string,
  failure: { error: string; role: string },
  use: (call: (parameters: unknown) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  const { name, rc } = attempt;
  const handler = ctx.handler(resource);
  const link = linkedController(rc.signal);
  const call = (parameters: unknown): Promise<unknown> =>
    raceSignal(
      handler(parameters, { executionArn: rc.executionArn, stateName: name, signal: link.signal }),
      link.signal,
    );
  try {
    return await use(call);
  } catch (e) {
    if (rc.signal.aborted) throw rc.signal.reason as Error;
    const err = toStatesError(e);
    throw new StatesRuntimeError(
      failure.error,
      `${failure.role} of '${name}' failed: ${err.error}${err.cause ? `: ${err.cause}` : ''}`,
    );
  } finally {
    link.dispose();
  }
}

/**
 * ItemReader: the items of the object read through the bound s3:getObject handler, by `ReaderConfig.InputType`
 * (JSON: an array; JSONL: one item per line; see item-reader-input.ts), ≤ MaxItems.
 */
async function readItems(ctx: StateContext, attempt: StateAttempt): Promise<unknown[]> {
  const { name, state, input: effective, rc, enteredAt } = attempt;
  const reader = state.ItemReader as {
    Parameters: Record<string, unknown>;
    ReaderConfig: { InputType: ItemReaderInputType; MaxItems?: number };
  };
  const params = applyPayloadTemplate(reader.Parameters, effective, ctx.contextObject(rc, name, enteredAt, 0));
  const body = await withS3Handler(
    ctx,
    attempt,
    S3_GET_OBJECT,
    { error: 'States.ItemReaderFailed', role: 'ItemReader' },
    (getObject) => getObject(params),
  );
  const items = itemsOfObject(body, reader.ReaderConfig.InputType, name);
  return reader.ReaderConfig.MaxItems === undefined ? items : items.slice(0, reader.ReaderConfig.MaxItems);
}

/**
 * ResultWriter: writes the children's results through the bound s3:putObject handler (AWS layout) and returns
 * `{MapRunArn, ResultWriterDetails: {Bucket, Key}}`. The map run id is derived from the map key, so a resumed
 * state rewrites the same keys instead of leaving a second copy.
 */
async function writeResults(
  ctx: StateContext,
  attempt: StateAttempt,
  mapKey: string,
  children: MapRunChildResult[],
): Promise<unknown> {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const writer = state.ResultWriter as { Parameters: Record<string, unknown> };
  const params = applyPayloadTemplate(
    writer.Parameters,
    effective,
    ctx.contextObject(rc, name, enteredAt, retryCount),
  ) as { Bucket?: unknown; Prefix?: unknown };
  const { Bucket: bucket, Prefix: prefix } = params;
  if (typeof bucket !== 'string' || (prefix !== undefined && typeof prefix !== 'string'))
    throw new StatesRuntimeError(
      'States.ResultWriterFailed',
      `ResultWriter of '${name}': Bucket must be a string (and Prefix a string when given)`,
    );
  const hex = createHash('sha256').update(`${rc.executionArn}#${mapKey}`).digest('hex');
  const mapRunId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  const label = mapLabel(name, state);
  return withS3Handler(
    ctx,
    attempt,
    S3_PUT_OBJECT,
    { error: 'States.ResultWriterFailed', role: 'ResultWriter' },
    (putObject) =>
      writeMapRunResults({
        bucket,
        ...(prefix !== undefined ? { prefix } : {}),
        mapRunArn: `${ctx.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${label}:${mapRunId}`,
        mapRunId,
        stateMachineArn: ctx.stateMachineArn,
        children,
        maxFileBytes: ctx.resultFileBytes,
        put: async (key, body) => {
          await putObject({ Bucket: bucket, Key: key, Body: body });
        },
      }),
  );
}
