import { describe, expect, it } from 'vitest';
import { eventTimeEnvSchema } from '../../../src/change-stream/firehose-transform-config.js';
import { eventTimeSchema } from '../../../src/config/schema.js';

/** The handler's zod/mini copy of `pipe.eventTime` must accept, default and refuse exactly like the config's. */
describe('eventTimeEnvSchema (zod/mini, in the firehose-transform bundle)', () => {
  const inputs: unknown[] = [
    { attribute: 'createdAtTime' },
    { attribute: 'createdAtTime', unit: 's' },
    { attribute: 'at', unit: 'iso' },
    { attribute: '' },
    { attribute: 'at', unit: 'minutes' },
    { attribute: 'at', extra: true },
    {},
    'createdAtTime',
    null,
  ];
  it.each(inputs.map((input) => [JSON.stringify(input), input]))(
    'same outcome and messages as the config schema: %s',
    (_, input) => {
      const mini = eventTimeEnvSchema.safeParse(input);
      const classic = eventTimeSchema.safeParse(input);
      expect(mini.success).toBe(classic.success);
      expect(mini.data).toEqual(classic.data);
      expect(mini.error?.issues.map((issue) => [issue.path, issue.message])).toEqual(
        classic.error?.issues.map((issue) => [issue.path, issue.message]),
      );
    },
  );
});
