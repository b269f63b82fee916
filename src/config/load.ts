import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ViewDefinitionError } from '../views/errors.js';
import { DEFAULT_VIEW_FILES, loadViewFiles } from '../views/lake/load-views.js';
import { ConfigError } from './errors.js';
import { configSchema, type TributaryConfig } from './schema.js';
import { demoConfig } from './demo-config.js';
import { compileFilters } from '../event-pattern/compile-filters.js';
import { InvalidEventPatternError } from '../event-pattern/errors.js';
import { describeIssue } from './describe-issue.js';
import { configWarnings } from './filter-warnings.js';

/** Default config file name, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'tributary.config.json';

/**
 * Validates a parsed config object. Throws {@link ConfigError} naming the first bad field; an unknown key
 * (every object is strict, so a misspelled `filter` cannot silently let every record through) is named with
 * the closest allowed key.
 *
 * @example
 * const config = parseConfig({ tables: [{ name: 'visits', partitionKey: 'id' }] });
 */
export function parseConfig(raw: unknown, source = 'config', baseDir = process.cwd()): TributaryConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const { field, message } = describeIssue(configSchema, result.error.issues);
    throw new ConfigError(`${source}: ${message}`, field);
  }
  // Filters are EventBridge patterns: compile them now, with the same compiler the pipes and CDK use.
  result.data.tables.forEach((table, index) => {
    if (!table.pipe) return;
    try {
      compileFilters(table.pipe.filter, { dialect: 'pipes' });
    } catch (error) {
      if (!(error instanceof InvalidEventPatternError)) throw error;
      const field = `tables.${index}.pipe.${error.path}`;
      throw new ConfigError(`${source}: ${field}: ${error.reason}`, field);
    }
  });
  // Views: absolute paths from here on (relative ones are from the config file), each compiled now.
  const views = result.data.views?.map((file) => resolve(baseDir, file)) ?? [...DEFAULT_VIEW_FILES];
  views.forEach((file, index) => {
    try {
      loadViewFiles([file]);
    } catch (error) {
      if (!(error instanceof ViewDefinitionError)) throw error;
      const shown = result.data.views?.[index] ?? file;
      throw new ConfigError(
        `${source}: views.${index}: ${new ViewDefinitionError(error.path, error.reason, shown).message}`,
        `views.${index}`,
      );
    }
  });
  try {
    loadViewFiles(views);
  } catch (error) {
    if (!(error instanceof ViewDefinitionError)) throw error;
    throw new ConfigError(`${source}: views: ${error.message}`, 'views');
  }
  return { ...result.data, views };
}

/** A loaded config, where it came from, and what in it is valid but will not work as written. */
export interface LoadedConfig {
  config: TributaryConfig;
  source: string;
  /** See {@link configWarnings}; the CLI prints them to stderr. */
  warnings: string[];
}

/**
 * Loads a config file. With no explicit path and no `tributary.config.json`, returns the demo config.
 *
 * @example
 * const { config, source, warnings } = await loadConfig(); // demo config when no file exists
 */
export async function loadConfig(path?: string): Promise<LoadedConfig> {
  const file = path ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!path && (error as { code?: string }).code === 'ENOENT') {
      const config = parseConfig(demoConfig, 'demo config');
      return { config, source: 'built-in demo config', warnings: configWarnings(config) };
    }
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  const config = parseConfig(raw, file, dirname(resolve(file)));
  return { config, source: file, warnings: configWarnings(config).map((warning) => `${file}: ${warning}`) };
}
