import { Template } from 'aws-cdk-lib/assertions';
import type { Metafile } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HANDLER_NAMES,
  HandlerCode,
  handlerEntry,
  LAYER_MARKER,
  layerDir,
  type HandlerCodeProvider,
} from '../lib/lambda/handler-code.js';
import { PatientEnrichmentPipe } from '../lib/patient-enrichment-pipe.js';
import { buildFhirValidatorLayer, dominantSources, FHIR_VALIDATOR_LAYER_FILES } from '../../scripts/build-lambdas.js';
import { constructStack } from './construct-helpers.js';
import { fixtureConfig, synthStack } from './synth-helpers.js';

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A dist directory with stub bundles, a (stub) duckdb layer and, optionally, a (stub) fhir-validator layer. */
function stubDist(withLayer: boolean): string {
  const dist = tempDir('tributary-dist-');
  for (const name of HANDLER_NAMES) {
    mkdirSync(join(dist, name), { recursive: true });
    writeFileSync(join(dist, name, 'index.mjs'), 'export const handler = async () => [];\n');
  }
  if (withLayer) {
    const marker = join(layerDir('fhir-validator', dist), LAYER_MARKER['fhir-validator']);
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, '{}\n');
  }
  // The views writer's layer is always needed by the whole stack.
  const duckdb = join(layerDir('duckdb', dist), LAYER_MARKER.duckdb);
  mkdirSync(dirname(duckdb), { recursive: true });
  writeFileSync(duckdb, '{}\n');
  return dist;
}

function synthPipe(handlerCode: HandlerCodeProvider, validate: boolean): Template {
  const { stack, key } = constructStack();
  const table = fixtureConfig().tables.find((entry) => entry.name === 'patients')!;
  new PatientEnrichmentPipe(stack, 'Patients', {
    table,
    handlerCode,
    encryptionKey: key,
    enrichmentOptions: { validate },
  });
  return Template.fromStack(stack);
}

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

  it('builds the fhir-validator layer from the installed packages: only the listed files, far under the 250 MiB layer limit', () => {
    const dist = tempDir('tributary-layer-');
    const { dir, bytes } = buildFhirValidatorLayer(dist);
    const files = readdirSync(join(dir, 'nodejs', 'node_modules'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(join(dir, 'nodejs', 'node_modules').length + 1))
      .sort();
    const expected = Object.entries(FHIR_VALIDATOR_LAYER_FILES)
      .flatMap(([pkg, list]) => list.map((file) => join(pkg, file)))
      .sort();
    expect(files).toEqual(expected);
    expect(bytes).toBeGreaterThan(20 * 1024 * 1024); // the R4 definitions are there
    expect(bytes).toBeLessThan(100 * 1024 * 1024);
  });

  it('patientEnrichment.validate: true attaches the fhir-validator layer to the enrichment function; false attaches none', () => {
    const withValidation = synthPipe(HandlerCode.fromDist(stubDist(true)), true);
    withValidation.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    const functions = Object.values(withValidation.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(1);
    const layerId = Object.keys(withValidation.findResources('AWS::Lambda::LayerVersion'))[0]!;
    expect((functions[0]!.Properties as { Layers?: unknown[] }).Layers).toEqual([{ Ref: layerId }]);

    const without = synthPipe(HandlerCode.fromDist(stubDist(true)), false);
    without.resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });

  it('patientEnrichment.validate: true fails synth, naming the field, when the layer was not built or cannot be supplied', () => {
    expect(() => synthPipe(HandlerCode.fromDist(stubDist(false)), true)).toThrow(
      /patientEnrichment\.validate is true: no fhir-validator layer in .*npm run build/,
    );
    const noLayers: HandlerCodeProvider = { code: (name) => HandlerCode.placeholder().code(name) };
    expect(() => synthPipe(noLayers, true)).toThrow(
      /patientEnrichment\.validate is true.*set patientEnrichment\.validate to false/,
    );
    expect(() => synthPipe(noLayers, false)).not.toThrow();
  });

  it('the whole stack with patientEnrichment.validate: true synthesises with the layer and passes cdk-nag', () => {
    const config = fixtureConfig();
    const result = synthStack({
      config: { ...config, patientEnrichment: { ...config.patientEnrichment, validate: true } },
      handlerCode: HandlerCode.fromDist(stubDist(true)),
    });
    try {
      expect(result.error).toBeUndefined();
      expect(result.violations).toEqual([]);
      // fhir-validator and the views writer's duckdb.
      Template.fromStack(result.stack).resourceCountIs('AWS::Lambda::LayerVersion', 2);
    } finally {
      result.cleanup();
    }
  });
});
