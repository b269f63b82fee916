import { parseConfig } from '../../src/config/load.js';
import type { TributaryConfig } from '../../src/config/schema.js';

export {
  DEFAULT_FHIR_TYPES,
  alarmsSectionSchema,
  awsSectionSchema,
  catalogSectionSchema,
  existingTableSchema,
  type AlarmsSection,
  type AwsSection,
  type CatalogSection,
  type ExistingTable,
} from '../../src/config/deploy-sections.js';

/** The config the stack reads: the one Tributary config, deployment sections included. */
export type DeployConfig = TributaryConfig;

/**
 * Parses the Tributary config for a deployment: the same schema and filter compilation as the local
 * runtime. Throws `ConfigError` naming the bad field.
 *
 * @example
 * const config = parseDeployConfig(JSON.parse(readFileSync('tributary.config.json', 'utf8')));
 */
export function parseDeployConfig(raw: unknown, source = 'config'): DeployConfig {
  return parseConfig(raw ?? {}, source);
}
