/**
 * Inline Map states (spec § "Map"): every item of the ItemsPath array runs through the ItemProcessor, at most
 * MaxConcurrency at once; the first failing iteration fails the state. Also what both Map modes share: the item
 * processor, ItemsPath, MaxConcurrency and ItemSelector (distributed-map-state.ts runs the DISTRIBUTED mode).
 */
import { StatesRuntimeError } from './errors.js';
import { applyPayloadTemplate, numberField, selectPath } from './input-output.js';
import { runAll } from './parallel-state.js';
import type { RunContext, Scope, StateAttempt, StateContext } from './state-context.js';
import type { StateDefinition } from './types.js';

/** Concurrency used for an inline Map whose MaxConcurrency is 0 (AWS: up to 40 concurrent iterations). */
export const MAX_INLINE_CONCURRENCY = 40;

/** A Map's ItemProcessor (or legacy Iterator). */
export type ItemProcessor = Scope & { ProcessorConfig?: { Mode?: string; ExecutionType?: string } };

/** The ItemProcessor (or legacy Iterator) of a Map state. */
export function itemProcessor(state: StateDefinition): ItemProcessor {
  return (state.ItemProcessor ?? state.Iterator) as ItemProcessor;
}

/**
 * True for a Map in Distributed mode (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`).
 *
 * @example
 * isDistributedMap({ Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt, States } }); // true
 */
export function isDistributedMap(state: StateDefinition): boolean {
  return itemProcessor(state).ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** A non-negative numeric field of a Map, literal or through its `…Path` (MaxConcurrency, tolerated failures). */
export function mapNumber(name: string, state: StateDefinition, field: string, input: unknown): number | undefined {
  return numberField(state, field, input, {
    owner: `Map '${name}'`,
    expected: 'a non-negative number',
    accepts: (v): v is number => typeof v === 'number' && v >= 0,
  });
}

/** The items selected by ItemsPath (default: the whole effective input), which must be an array. */
export function itemsFromPath(name: string, state: StateDefinition, effective: unknown): unknown[] {
  const items =
    state.ItemsPath === undefined ? effective : selectPath(effective, state.ItemsPath as string, 'ItemsPath', {});
  if (!Array.isArray(items))
    throw new StatesRuntimeError('States.Runtime', `Map '${name}': ItemsPath must select an array`);
  return items;
}

/** MaxConcurrency, where 0 (or none) means "as many as possible": `unlimited`. */
export function maxConcurrency(name: string, state: StateDefinition, effective: unknown, unlimited: number): number {
  const requested = mapNumber(name, state, 'MaxConcurrency', effective) ?? 0;
  return requested > 0 ? requested : unlimited;
}

/** The input of one iteration: the item, or ItemSelector (legacy Parameters) applied with `$$.Map.Item` set. */
export function itemSelector(ctx: StateContext, attempt: StateAttempt): (value: unknown, index: number) => unknown {
  const { name, state, input: effective, rc, enteredAt, retryCount } = attempt;
  const selector = (state.ItemSelector ?? state.Parameters) as unknown;
  return (value, index) =>
    selector === undefined
      ? value
      : applyPayloadTemplate(selector, effective, {
          ...ctx.contextObject(rc, name, enteredAt, retryCount),
          Map: { Item: { Index: index, Value: value } },
        });
}

/**
 * Runs one attempt of an inline Map state; returns the iterations' outputs in item order.
 *
 * @example
 * const outputs = await runInlineMapState(context, { name: 'Each', state, input, rc, enteredAt, retryCount: 0 });
 */
export async function runInlineMapState(ctx: StateContext, attempt: StateAttempt): Promise<unknown[]> {
  const { name, state, input: effective, rc } = attempt;
  const processor = itemProcessor(state);
  const items = itemsFromPath(name, state, effective);
  const selectItem = itemSelector(ctx, attempt);
  return runAll(items.length, maxConcurrency(name, state, effective, MAX_INLINE_CONCURRENCY), rc, (i, child) => {
    const value = items[i];
    const itemRc: RunContext = { ...child, mapItem: { Index: i, Value: value } };
    return ctx.runScope(processor, selectItem(value, i), itemRc);
  });
}
