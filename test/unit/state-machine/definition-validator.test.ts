import { describe, expect, it } from 'vitest';
import {
  StateMachineExecutor,
  UnsupportedDefinitionError,
  loadDefinition,
  validateDefinition,
} from '../../../src/local/state-machine/index.js';

const SQS = 'arn:aws:states:::sqs:sendMessage';
const paths = (def: unknown, keys: string[] = [SQS]): string[] =>
  validateDefinition(def, keys).map((p) => `${p.path}: ${p.message}`);

describe('validateDefinition', () => {
  it('accepts the spec Hello World with a bound Lambda ARN', () => {
    const def = {
      Comment: 'A simple minimal example',
      StartAt: 'Hello World',
      States: {
        'Hello World': {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:HelloWorld',
          End: true,
        },
      },
    };
    expect(paths(def, ['arn:aws:lambda:us-east-1:123456789012:function:HelloWorld'])).toEqual([]);
  });

  it('lists EVERY problem, each with its state path', () => {
    const def = {
      QueryLanguage: 'JSONata',
      StartAt: 'Missing',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Next: 'Nowhere', Credentials: {} },
        B: { Type: 'Bogus', End: true },
        C: { Type: 'Task', Resource: `${SQS}.sync`, End: true },
        D: { Type: 'Pass', End: true, Assign: { x: 1 } },
        E: { Type: 'Pass', End: true, Parameters: { 'x.$': 'States.Nope($.a)' } },
        F: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
          Parameters: { QueueUrl: 'q' },
          End: true,
        },
        G: { Type: 'Pass', Next: 'A', End: true },
        H: { Type: 'Task', Resource: SQS, End: true, Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }] },
      },
    };
    const problems = paths(def);
    const expected = [
      /^QueryLanguage: .*JSONata.*not supported/,
      /^StartAt: must name a state/,
      /^States\.A\.Credentials: cross-account Credentials are not supported/,
      /^States\.A\.Next: 'Nowhere' is not a state/,
      /^States\.A\.Resource: no handler is bound for resource 'arn:aws:states:::dynamodb:putItem'/,
      /^States\.B\.Type: unsupported state type "Bogus"/,
      /^States\.C\.Resource: the \.sync integration pattern is not supported/,
      /^States\.D\.Assign: workflow variables/,
      /^States\.E\.Parameters\.x\.\$: .*unknown intrinsic function 'States\.Nope'/,
      /^States\.F\.Parameters: \.waitForTaskToken requires Parameters to pass '\$\$\.Task\.Token'/,
      /^States\.G: must not have both Next and End/,
      /^States\.H\.Retry\[0\]\.ErrorEquals: 'States\.ALL' must appear alone/,
    ];
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        `${re} in\n${problems.join('\n')}`,
      ).toBe(true);
    expect(problems.length).toBe(expected.length);
  });

  it('refuses unsupported Map features: incomplete ResultWriter, non-JSON ItemReader, other readers, EXPRESS callbacks', () => {
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemReader: {
            Resource: 'arn:aws:states:::s3:listObjectsV2',
            ReaderConfig: { InputType: 'CSV' },
            Parameters: { Bucket: 'b' },
          },
          ResultWriter: { Resource: 'arn:aws:states:::s3:putObject' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
            StartAt: 'Cb',
            States: {
              Cb: {
                Type: 'Task',
                Resource: `${SQS}.waitForTaskToken`,
                Parameters: { 'T.$': '$$.Task.Token' },
                End: true,
              },
            },
          },
          End: true,
        },
        N: {
          Type: 'Map',
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { Bucket: 'b', Key: 'k' },
          },
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };
    const problems = paths(def);
    expect(problems.some((p) => p.startsWith('States.M.ResultWriter.Parameters: required: {Bucket, Prefix}'))).toBe(
      true,
    );
    expect(
      problems.some((p) => p.startsWith("States.M.ItemReader.Resource: only 'arn:aws:states:::s3:getObject'")),
    ).toBe(true);
    expect(
      problems.some((p) => p.startsWith("States.M.ItemReader.ReaderConfig.InputType: only InputType 'JSON'")),
    ).toBe(true);
    expect(problems.some((p) => p.startsWith('States.M.ItemReader.Parameters.Key: required'))).toBe(true);
    expect(
      problems.some((p) =>
        p.startsWith('States.M.ItemProcessor.States.Cb.Resource: .waitForTaskToken is not supported in EXPRESS'),
      ),
    ).toBe(true);
    expect(
      problems.some((p) =>
        p.startsWith('States.N.ItemReader: ItemReader requires ItemProcessor.ProcessorConfig.Mode DISTRIBUTED'),
      ),
    ).toBe(true);
    expect(
      problems.some((p) =>
        p.startsWith("States.N.ItemReader.Resource: no handler is bound for resource 'arn:aws:states:::s3:getObject'"),
      ),
    ).toBe(true);
  });

  it('checks Choice rules, Wait fields and nested scopes', () => {
    const def = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.x', NumericEquals: 'one', Next: 'W' },
            { Variable: '$.x', Next: 'W' },
            { And: [{ Variable: '$.x', IsNull: true, Next: 'W' }], Next: 'W' },
          ],
        },
        W: { Type: 'Wait', Seconds: 1, Timestamp: '2020-01-01T00:00:00Z', Next: 'P' },
        P: { Type: 'Parallel', Branches: [{ StartAt: 'In', States: { In: { Type: 'Pass', Next: 'C' } } }], End: true },
      },
    };
    const problems = paths(def);
    expect(problems).toContain('States.C.Choices[0].NumericEquals: must be a number');
    expect(problems).toContain(
      'States.C.Choices[1]: a Choice rule must have exactly one comparison operator or one of And/Or/Not',
    );
    expect(problems).toContain('States.C.Choices[2].And[0].Next: nested Choice rules must not have Next');
    expect(problems).toContain(
      'States.W: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath',
    );
    expect(problems).toContain("States.P.Branches[0].States.In.Next: 'C' is not a state in this scope");
  });

  it('loadDefinition refuses non-JSON text and the executor constructor throws the full list', () => {
    expect(() => loadDefinition('{nope')).toThrow(UnsupportedDefinitionError);
    let error: unknown;
    try {
      new StateMachineExecutor({
        definition: {
          StartAt: 'A',
          States: { A: { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents', End: true, TimeoutSeconds: 0 } },
        },
        resources: {},
        dbFile: ':memory:',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedDefinitionError);
    expect((error as UnsupportedDefinitionError).problems.map((p) => p.path)).toEqual([
      'States.A.Resource',
      'States.A.TimeoutSeconds',
    ]);
    expect((error as Error).message).toMatch(/States\.A\.Resource: no handler is bound/);
  });
});
