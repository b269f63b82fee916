import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.js';
import { positiveInt, positiveNumber } from '../../../src/cli/option-parsers.js';
import { UsageError } from '../../../src/cli/errors.js';

describe('CLI option parsing', () => {
  afterEach(() => vi.restoreAllMocks());

  it('rejects non-numeric and non-positive counts as usage errors, never NaN', () => {
    expect(positiveInt('--limit')('20')).toBe(20);
    expect(() => positiveInt('--limit')('abc')).toThrow(UsageError);
    expect(() => positiveInt('--limit')('0')).toThrow(/--limit/);
    expect(() => positiveInt('--limit')('1.5')).toThrow(UsageError);
    expect(positiveNumber('--export-every')('0.5')).toBe(0.5);
    expect(() => positiveNumber('--export-every')('-1')).toThrow(UsageError);
    expect(() => positiveNumber('--export-every')('Infinity')).toThrow(UsageError);
  });

  it('exits 2 on a bad option value, before doing any work', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'tributary', 'runs', '--limit', 'abc'])).toBe(EXIT.usage);
    expect(await main(['node', 'tributary', 'up', '--poll-ms', '0'])).toBe(EXIT.usage);
    expect(stderr.mock.calls.map(([text]) => String(text)).join('')).toMatch(/--limit.*abc[\s\S]*--poll-ms/);
  });

  it('a missing command is a usage error (exit 2, help on stderr); asking for help or the version is not', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['node', 'tributary'])).toBe(EXIT.usage);
    expect(await main(['node', 'tributary', 'lake'])).toBe(EXIT.usage);
    expect(stderr.mock.calls.map(([text]) => String(text)).join('')).toContain('Usage: tributary');
    expect(await main(['node', 'tributary', '--help'])).toBe(EXIT.ok);
    expect(await main(['node', 'tributary', 'lake', '--help'])).toBe(EXIT.ok);
    expect(await main(['node', 'tributary', 'help', 'lake'])).toBe(EXIT.ok);
    expect(await main(['node', 'tributary', '--version'])).toBe(EXIT.ok);
    expect(stdout).toHaveBeenCalled();
  });
});
