import type { Metafile } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES, HandlerCode, handlerEntry } from '../lib/lambda/handler-code.js';
import { dominantSources } from '../../scripts/build-lambdas.js';
import { existsSync } from 'node:fs';

describe('Lambda bundling', () => {
  it('groups metafile inputs by package (scoped kept whole) and by our folders, largest first', () => {
    const metafile = {
      inputs: {},
      outputs: {
        'index.mjs': {
          bytes: 0,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/zod/v4/core/schemas.js': { bytesInOutput: 300 },
            'node_modules/zod/v4/classic/schemas.js': { bytesInOutput: 200 },
            'node_modules/@aws-sdk/client-s3/dist-es/index.js': { bytesInOutput: 400 },
            'src/fhir-export/process-file.ts': { bytesInOutput: 50 },
          },
        },
      },
    } as unknown as Metafile;
    expect(dominantSources(metafile)).toEqual([
      { source: 'zod', bytes: 500 },
      { source: '@aws-sdk/client-s3', bytes: 400 },
      { source: 'src/fhir-export', bytes: 50 },
    ]);
  });

  it('has a handler file for every deployed Lambda', () => {
    for (const name of HANDLER_NAMES) expect(existsSync(handlerEntry(name)), name).toBe(true);
  });

  it('refuses to deploy a handler that was not built, saying how to build it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tributary-dist-'));
    try {
      expect(() => HandlerCode.fromDist(empty).code('run-ledger')).toThrow(/npm run build/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
