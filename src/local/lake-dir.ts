import { resolve } from 'node:path';
import type { TributaryConfig } from '../config/schema.js';
import { stateDirPaths } from './state-dir.js';

/**
 * The lake directory: the config's `lake`, else `<state dir>/lake`.
 *
 * @example
 * resolveLakeDir('.tributary', config) // '/abs/.tributary/lake'
 */
export function resolveLakeDir(dir: string, config: Pick<TributaryConfig, 'lake'>): string {
  return config.lake ? resolve(config.lake) : stateDirPaths(dir).lake;
}
