import { setMaxListeners } from 'node:events';

/**
 * Abort-aware waiting: sleeping, racing a promise against an AbortSignal, and linking child controllers to a parent
 * (so stopping an execution cancels its branches, map items, timers and handlers).
 */

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * await sleep(100, controller.signal);
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, unless `signal` aborts first (then rejects with its reason).
 *
 * @example
 * const result = await raceSignal(handler(params, ctx), ctx.signal);
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** A controller aborted when its parent aborts; `dispose()` unlinks it so long runs don't accumulate listeners. */
export interface LinkedController {
  controller: AbortController;
  signal: AbortSignal;
  dispose(): void;
}

/**
 * Creates a child AbortController that follows `parent`.
 *
 * @example
 * const child = linkedController(execution.signal); try { … } finally { child.dispose(); }
 */
export function linkedController(parent: AbortSignal): LinkedController {
  const controller = newController();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, signal: controller.signal, dispose: () => parent.removeEventListener('abort', onAbort) };
}

/**
 * An AbortController whose signal may have many listeners (one per concurrent map item, timer and handler race);
 * every listener we add is removed when its wait ends, so the default warning at 10 would be a false alarm.
 *
 * @example
 * const controller = newController();
 */
export function newController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
