import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Default state directory, relative to the working directory. */
export const DEFAULT_STATE_DIR = '.tributary';

/** Endpoints of the running local stack, written to `<dir>/endpoints.json` when ready. */
export interface Endpoints {
  /** DynamoDB (and DynamoDB Streams) endpoint, e.g. `http://127.0.0.1:4567`. */
  dynamodb: string;
  /** FHIR R4 base URL, HealthLake path shape: `http://127.0.0.1:<port>/datastore/<id>/r4`. */
  fhir?: string;
  /** HealthLake control-plane endpoint for `@aws-sdk/client-healthlake`. */
  healthlake?: string;
  /** Loopback control endpoint of `tributary up` (POST /sync). */
  control?: string;
  /** Process id of the `tributary up` that owns the endpoints. */
  pid?: number;
}

/**
 * Where each embedded service keeps its state inside the state directory.
 *
 * @example
 * const paths = stateDirPaths('.tributary');
 * paths.lake // '/abs/.tributary/lake'
 */
export function stateDirPaths(dir: string) {
  const root = resolve(dir);
  return {
    root,
    endpoints: join(root, 'endpoints.json'),
    /** dynalite's LevelDB files. */
    dynamodb: join(root, 'dynamodb'),
    /** Stream records and stream metadata (SQLite). */
    streams: join(root, 'dynamodb-streams.sqlite'),
    /** Pipe checkpoints (SQLite). */
    pipes: join(root, 'pipes.sqlite'),
    /** FHIR datastore (SQLite). */
    fhir: join(root, 'fhir.sqlite'),
    /** State machine executions (SQLite). */
    executions: join(root, 'executions.sqlite'),
    /** Buckets of the local S3 stand-in: `<root>/s3/<bucket>/<key>`. */
    buckets: join(root, 's3'),
    /** Default lake directory. */
    lake: join(root, 'lake'),
  };
}

export type StateDirPaths = ReturnType<typeof stateDirPaths>;

/** Writes `endpoints.json` atomically. */
export async function writeEndpoints(dir: string, endpoints: Endpoints): Promise<void> {
  const { root, endpoints: file } = stateDirPaths(dir);
  await mkdir(root, { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(endpoints, null, 2)}\n`);
  await rename(temp, file);
}

/** Reads `endpoints.json`, or `undefined` when no stack has written one. */
export async function readEndpoints(dir: string): Promise<Endpoints | undefined> {
  try {
    return JSON.parse(await readFile(stateDirPaths(dir).endpoints, 'utf8')) as Endpoints;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes `endpoints.json` (on shutdown). */
export async function clearEndpoints(dir: string): Promise<void> {
  await rm(stateDirPaths(dir).endpoints, { force: true });
}
