import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../../../src/local/state-machine/index.js';
import { EVENTS, GET, PUT, UPDATE, exportWorkflow } from './fixtures/export-workflow.js';
import { lockWorkflow } from './fixtures/lock-workflow.js';
import { LAMBDA_INVOKE, S3_GET_OBJECT } from '../../../src/local/state-machine/index.js';

// Cross-check with an independent ASL validator (asl-validator, a dev dependency): definitions we accept must be valid
// ASL, and definitions it rejects for spec reasons must be rejected by us too.
type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText(sep?: string): string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const SQS = 'arn:aws:states:::sqs:sendMessage';
const DDB = 'arn:aws:states:::dynamodb:updateItem';

describe('ASL conformance cross-check', () => {
  it('the lock workflow is valid for both validators', () => {
    const result = aslValidator(lockWorkflow);
    expect(result.isValid, result.errorsText('\n')).toBe(true);
    expect(validateDefinition(lockWorkflow, [SQS, DDB])).toEqual([]);
  });

  it('the export workflow (distributed map, callbacks, intrinsics) is valid for both validators', () => {
    const result = aslValidator(exportWorkflow);
    expect(result.isValid, result.errorsText('\n')).toBe(true);
    expect(validateDefinition(exportWorkflow, [GET, PUT, UPDATE, SQS, EVENTS, LAMBDA_INVOKE, S3_GET_OBJECT])).toEqual(
      [],
    );
  });

  it('spec violations are rejected by both', () => {
    const invalid = [
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Missing' } } },
      { StartAt: 'A', States: { A: { Type: 'Pass' } } },
      { StartAt: 'A', States: { A: { Type: 'Choice', Choices: [] } } },
      { StartAt: 'A', States: { A: { Type: 'Wait', End: true } } },
    ];
    for (const def of invalid) {
      expect(aslValidator(def).isValid, JSON.stringify(def)).toBe(false);
      expect(validateDefinition(def, []).length, JSON.stringify(def)).toBeGreaterThan(0);
    }
  });
});
