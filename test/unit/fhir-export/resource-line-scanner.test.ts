import { describe, expect, it } from 'vitest';
import { canonicalUtcDate, ResourceLineScanner } from '../../../src/fhir-export/resource-line-scanner.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '{"resourceType":"Observation","id":"o1","meta":{"versionId":"2","lastUpdated":"2024-03-05T10:00:00.000Z"},"valueQuantity":{"value":-12.5e3,"unit":"kg"},"x":[true,false,null,0,1.5E+2,[]],"note":[{"text":"a \\"b\\" \\\\ \\u00e9 é 🩺"}]}',
  '{ "resourceType" : "Patient" , "meta" : { "lastUpdated" : "2024-01-01T00:00:00Z" } , "id" : "p" , "meta2" : {} }',
  '{"id":"a","resourceType":"Encounter","meta":{"tag":[{"lastUpdated":"x"}],"versionId":"9"},"contained":[{"meta":{"lastUpdated":"y"}}]}',
];

/** What JSON.parse says about a line, in the scanner's terms. */
function reference(line: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const r = parsed as { resourceType?: unknown; id?: unknown; meta?: unknown };
  const meta = r.meta && typeof r.meta === 'object' ? (r.meta as { lastUpdated?: unknown; versionId?: unknown }) : {};
  return { resourceType: r.resourceType, id: r.id, lastUpdated: meta.lastUpdated, versionId: meta.versionId };
}

describe('ResourceLineScanner', () => {
  const scanner = new ResourceLineScanner();
  const scan = (line: string) => {
    const bytes = Buffer.from(line, 'utf8');
    if (!scanner.scan(bytes, 0, bytes.length)) return undefined;
    const field = (start: number, end: number) => (start < 0 ? undefined : bytes.toString('utf8', start, end));
    return {
      resourceType: field(scanner.resourceTypeStart, scanner.resourceTypeEnd),
      id: field(scanner.idStart, scanner.idEnd),
      lastUpdated: field(scanner.lastUpdatedStart, scanner.lastUpdatedEnd),
      versionId: field(scanner.versionIdStart, scanner.versionIdEnd),
    };
  };

  it('reads the fields of ordinary resources as JSON.parse does', () => {
    for (const line of SEEDS) expect(scan(line)).toEqual(reference(line));
  });

  it('never accepts a line JSON.parse rejects, and never reads a field differently (random mutations)', () => {
    const next = random(7);
    const alphabet = [
      '{',
      '}',
      '[',
      ']',
      '"',
      '\\',
      ':',
      ',',
      ' ',
      '\t',
      '0',
      '-',
      '.',
      'e',
      'E',
      '+',
      'u',
      'n',
      'a',
      '1',
    ];
    let accepted = 0;
    for (let round = 0; round < 20_000; round += 1) {
      let line = SEEDS[round % SEEDS.length]!;
      const edits = 1 + Math.floor(next() * 3);
      for (let k = 0; k < edits; k += 1) {
        const at = Math.floor(next() * line.length);
        const choice = next();
        const char = alphabet[Math.floor(next() * alphabet.length)]!;
        if (choice < 0.4) line = line.slice(0, at) + line.slice(at + 1);
        else if (choice < 0.7) line = line.slice(0, at) + char + line.slice(at);
        else line = line.slice(0, at) + char + line.slice(at + 1);
      }
      const fast = scan(line);
      if (fast === undefined) continue;
      accepted += 1;
      expect({ line, ...reference(line) }).toEqual({ line, ...fast });
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it('declines what it does not read itself (escapes in read fields or keys, non-string fields, deep nesting)', () => {
    for (const line of [
      '{"resourceType":"Observ\\u0061tion","id":"a"}',
      '{"resource\\u0054ype":"Observation","id":"a"}',
      '{"resourceType":"Observation","id":"a","meta":{"lastUpdated":1}}',
      '{"resourceType":"Observation","id":7}',
      `{"resourceType":"Observation","id":"a","v":${'['.repeat(600)}${']'.repeat(600)}}`,
      '[{"resourceType":"Observation","id":"a"}]',
    ])
      expect(scan(line)).toBeUndefined();
  });
});

describe('canonicalUtcDate', () => {
  const date = (text: string) => canonicalUtcDate(Buffer.from(text), 0, Buffer.byteLength(text));

  it('reads the usual forms; Date agrees on the UTC date', () => {
    for (const text of [
      '2024-03-05T10:00:00.000Z',
      '2024-03-05T23:59:59Z',
      '0001-01-01T00:00:00Z',
      '9999-12-28T12:00:00.999Z',
    ]) {
      const at = new Date(text);
      expect(date(text)).toBe(at.getUTCFullYear() * 512 + (at.getUTCMonth() + 1) * 32 + at.getUTCDate());
    }
  });

  it('declines every other form, leaving it to Date', () => {
    for (const text of [
      '2024-02-29T00:00:00Z',
      '2024-02-30T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-01T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T00:00:00+00:00',
      '2024-01-01T00:00:00.12Z',
      '2024-01-01T00:00:00.1234Z',
      '2024-01-01',
      '2024-01-01T00:00:00',
      '2024-01-01 00:00:00Z',
      '+02024-01-01T00:00:0Z',
      'garbage-garbage-garb',
    ])
      expect(date(text)).toBe(-1);
  });

  it('declines a non-digit in any digit position, the units of the year included', () => {
    const valid = '2030-03-05T10:20:30.456Z';
    const digits = [...valid].flatMap((char, index) => (char >= '0' && char <= '9' ? [index] : []));
    expect(digits).toHaveLength(17);
    for (const index of digits)
      for (const bad of ['a', ' ', '/', ':', '-'])
        expect(date(`${valid.slice(0, index)}${bad}${valid.slice(index + 1)}`), `${bad} at ${index}`).toBe(-1);
  });
});
