import { existsSync } from 'node:fs';
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
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** Supplies the deployment package of each handler. */
export interface HandlerCodeProvider {
  code(name: HandlerName): lambda.Code;
}

/** Repository root (infra/lib/lambda -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where `npm run build` (scripts/build-lambdas.ts) writes `<name>/index.mjs`. */
export const DEFAULT_DIST_DIR = join(REPO_ROOT, 'dist', 'lambda');

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
      code(name) {
        const dir = join(distDir, name);
        if (!existsSync(join(dir, 'index.mjs'))) {
          throw new Error(`no bundle for handler ${name} in ${dir}: run \`npm run build\` first`);
        }
        return lambda.Code.fromAsset(dir);
      },
    };
  },
  placeholder(): HandlerCodeProvider {
    return {
      code: (name) =>
        lambda.Code.fromInline(
          `// placeholder for ${name}\nexports.handler = async () => { throw new Error('placeholder'); };`,
        ),
    };
  },
};
