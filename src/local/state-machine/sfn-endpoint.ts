/**
 * A Step Functions-compatible HTTP endpoint (AWS JSON 1.0 protocol) in front of a {@link StateMachineExecutor}, so
 * unmodified `@aws-sdk/client-sfn` code (e.g. a check-export Lambda calling SendTaskSuccess) works locally with an
 * `endpoint` override and any credentials. Signatures are not verified.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachineApiError } from './errors.js';
import type { StateMachineExecutor } from './executor.js';

/** A running endpoint. */
export interface StepFunctionsEndpoint {
  /** e.g. `http://127.0.0.1:41234` — pass as `endpoint` to `new SFNClient(...)`. */
  url: string;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;

class ClientError extends Error {
  public constructor(
    public readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const seconds = (d: Date | undefined): number | undefined => (d === undefined ? undefined : d.getTime() / 1000);

function parseJsonField(value: unknown, field: string, errorType: string): unknown {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ClientError('ValidationException', `${field} must be a JSON string`);
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new ClientError(errorType, `${field} is not valid JSON`);
  }
}

async function dispatch(executor: StateMachineExecutor, operation: string, body: Body): Promise<Body> {
  const str = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const requireStateMachine = (): void => {
    if (str('stateMachineArn') !== executor.stateMachineArn) {
      throw new ClientError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${str('stateMachineArn') ?? ''}'`,
      );
    }
  };
  switch (operation) {
    case 'StartExecution': {
      requireStateMachine();
      const name = str('name');
      const r = await executor.startExecution({
        input: parseJsonField(body.input ?? '{}', 'input', 'InvalidExecutionInput'),
        ...(name ? { name } : {}),
      });
      return { executionArn: r.executionArn, startDate: seconds(r.startDate) };
    }
    case 'DescribeExecution': {
      const d = await executor.describeExecution(str('executionArn') ?? '');
      return {
        executionArn: d.executionArn,
        stateMachineArn: d.stateMachineArn,
        name: d.name,
        status: d.status,
        startDate: seconds(d.startDate),
        stopDate: seconds(d.stopDate),
        input: JSON.stringify(d.input),
        output: d.output === undefined ? undefined : JSON.stringify(d.output),
        error: d.error,
        cause: d.cause,
      };
    }
    case 'StopExecution': {
      await executor.stopExecution(str('executionArn') ?? '', str('error'), str('cause'));
      return {
        stopDate: seconds((await executor.describeExecution(str('executionArn') ?? '')).stopDate ?? new Date()),
      };
    }
    case 'ListExecutions': {
      requireStateMachine();
      const filter = str('statusFilter');
      const executions = (await executor.listExecutions()).filter((e) => filter === undefined || e.status === filter);
      return {
        executions: executions.map((e) => ({ ...e, startDate: seconds(e.startDate), stopDate: seconds(e.stopDate) })),
      };
    }
    case 'SendTaskSuccess':
      await executor.sendTaskSuccess(str('taskToken') ?? '', parseJsonField(body.output, 'output', 'InvalidOutput'));
      return {};
    case 'SendTaskFailure':
      await executor.sendTaskFailure(str('taskToken') ?? '', str('error'), str('cause'));
      return {};
    case 'SendTaskHeartbeat':
      await executor.sendTaskHeartbeat(str('taskToken') ?? '');
      return {};
    default:
      throw new ClientError(
        'UnknownOperationException',
        `Operation '${operation}' is not supported by the local executor`,
      );
  }
}

function send(res: ServerResponse, status: number, body: Body): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(text);
}

async function handle(executor: StateMachineExecutor, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    let body: Body;
    try {
      body = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body);
    } catch {
      throw new ClientError('SerializationException', 'Request body is not JSON');
    }
    send(res, 200, await dispatch(executor, operation, body));
  } catch (e) {
    if (e instanceof ClientError || e instanceof StateMachineApiError)
      send(res, 400, { __type: e instanceof ClientError ? e.type : e.name, message: e.message });
    else send(res, 500, { __type: 'InternalFailure', message: 'Internal error' });
  }
}

/**
 * Serves the executor on 127.0.0.1 (port 0 = ephemeral) speaking the Step Functions JSON protocol for
 * StartExecution, DescribeExecution, StopExecution, ListExecutions, SendTaskSuccess/Failure/Heartbeat.
 *
 * @example
 * const endpoint = await startStepFunctionsEndpoint(executor);
 * const sfn = new SFNClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }));
 * await endpoint.close();
 */
export async function startStepFunctionsEndpoint(
  executor: StateMachineExecutor,
  options: { port?: number; host?: string } = {},
): Promise<StepFunctionsEndpoint> {
  const server = createServer((req, res) => void handle(executor, req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
