/**
 * Varied stream records and table configs for the byte-identity test of the change path. Deterministic (seeded), JSON
 * only, so the same inputs can be fed to an older checkout to produce the expected output (see generate-expected.ts).
 */

/** A small seeded PRNG (mulberry32), so the inputs never change. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [
  '0',
  '1',
  '-1',
  '123',
  '9007199254740993',
  '-9007199254740993',
  '12345678901234567890123456789012345678',
  '-0.000',
  '1E+2',
  '1e-130',
  '3.14159265358979323846264338327950288',
  '+5',
  '007',
  '.5',
  '5.',
  '-00.50',
  '1.5E3',
];
const STRINGS = [
  '',
  'plain',
  'Jane Example',
  'quote " and backslash \\',
  'new\nline\ttab\r\u0000\u001f',
  'ünïcödé ✓ 日本語',
  'emoji 🩺🧪',
  'lone \ud800 surrogate',
  '\u2028\u2029',
  '</script>',
  'x'.repeat(300),
];
const NAMES = ['id', 'siteId', 'name', 'a"b', 'new\nkey', 'ünï', '10', '2', '1', 'constructor', 'toString', 'é'];

type Value = Record<string, unknown>;

function attributeValue(random: () => number, depth: number): Value {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const kind = Math.floor(random() * (depth > 2 ? 8 : 10));
  switch (kind) {
    case 0:
    case 1:
      return { S: pick(STRINGS) };
    case 2:
    case 3:
      return { N: pick(NUMBERS) };
    case 4:
      return { BOOL: random() < 0.5 };
    case 5:
      return { NULL: true };
    case 6:
      return random() < 0.5
        ? { SS: [pick(STRINGS), pick(STRINGS)] }
        : { NS: [pick(NUMBERS), pick(NUMBERS), pick(NUMBERS)] };
    case 7:
      return random() < 0.5 ? { B: 'AAECAwQ=' } : { BS: ['AA==', '/w=='] };
    case 8: {
      const map: Record<string, Value> = {};
      const count = Math.floor(random() * 4);
      for (let i = 0; i < count; i++) map[pick(NAMES)] = attributeValue(random, depth + 1);
      return { M: map };
    }
    default: {
      const count = Math.floor(random() * 4);
      return { L: Array.from({ length: count }, () => attributeValue(random, depth + 1)) };
    }
  }
}

function image(random: () => number, i: number, created: number): Record<string, Value> {
  const out: Record<string, Value> = {
    id: { S: `item-${i}` },
    siteId: random() < 0.8 ? { S: String((i % 5) + 1) } : { N: String(i % 3) },
    createdAtTime: { N: String(created) },
    when: { S: new Date(created).toISOString() },
    sec: { N: String(Math.floor(created / 1000)) },
    flag: { BOOL: i % 2 === 0 },
    n: { N: NUMBERS[i % NUMBERS.length]! },
  };
  const extra = Math.floor(random() * 5);
  for (let k = 0; k < extra; k++) out[NAMES[Math.floor(random() * NAMES.length)]!] = attributeValue(random, 0);
  return out;
}

/**
 * Well-formed stream records of every op and view type, then records that fail in every way we know.
 *
 * @example
 * changeRecordsForBatch(streamRecordInputs(), TABLES[1]!);
 */
export function streamRecordInputs(): unknown[] {
  const random = prng(12);
  const records: unknown[] = [];
  const start = Date.UTC(2024, 1, 28, 23, 58);
  for (let i = 0; i < 400; i++) {
    const kind = i % 7 === 6 ? 'REMOVE' : i % 3 === 2 ? 'MODIFY' : 'INSERT';
    const created = start + i * 7919;
    const view = ['NEW_AND_OLD_IMAGES', 'NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY'][i % 5]!;
    const dynamodb: Record<string, unknown> = {
      ApproximateCreationDateTime: i % 11 === 0 ? `${Math.floor(created / 1000) + 1}` : created / 1000 + 0.25,
      Keys: i % 13 === 0 ? { id: { S: `item-${i}` }, sort: { N: '7' } } : { id: { S: `item-${i}` } },
      SequenceNumber: `4${String(i * 3).padStart(20, '0')}`,
      SizeBytes: 100,
      StreamViewType: view,
    };
    if (kind !== 'REMOVE' && (view === 'NEW_AND_OLD_IMAGES' || view === 'NEW_IMAGE'))
      dynamodb.NewImage = image(random, i, created);
    if (kind !== 'INSERT' && (view === 'NEW_AND_OLD_IMAGES' || view === 'OLD_IMAGE'))
      dynamodb.OldImage = image(random, i, created - 5000);
    // A REMOVE that still carries a new image: `after` stays null.
    if (kind === 'REMOVE' && i % 2 === 0) dynamodb.NewImage = image(random, i, created);
    const record: Record<string, unknown> = {
      eventID: i % 17 === 0 ? `ev"${i}\u00e9` : `ev-${i}`,
      eventName: kind,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb,
    };
    if (kind === 'REMOVE')
      record.userIdentity =
        i % 3 === 0
          ? { type: 'Service', principalId: 'dynamodb.amazonaws.com' }
          : i % 3 === 1
            ? { type: 'Service', principalId: 'other.amazonaws.com' }
            : null;
    records.push(record);
  }
  const good = (patch: (dynamodb: Record<string, unknown>, record: Record<string, unknown>) => void): unknown => {
    const dynamodb: Record<string, unknown> = {
      ApproximateCreationDateTime: 1700076551,
      Keys: { id: { S: 'k' } },
      NewImage: { id: { S: 'k' }, siteId: { S: '2' }, createdAtTime: { N: '1700076551926' }, flag: { BOOL: true } },
      SequenceNumber: '500',
    };
    const record: Record<string, unknown> = { eventID: 'odd', eventName: 'INSERT', dynamodb };
    patch(dynamodb, record);
    return record;
  };
  records.push(
    'not an object',
    null,
    [1, 2],
    good((_, r) => delete r.eventID),
    good((_, r) => (r.eventID = '')),
    good((_, r) => (r.eventName = 'UPSERT')),
    good((_, r) => (r.eventName = 'toString')),
    good((_, r) => delete r.dynamodb),
    good((d) => delete d.SequenceNumber),
    good((d) => delete d.Keys),
    good((d) => (d.Keys = [])),
    good((d) => (d.NewImage = [])),
    good((d) => (d.NewImage = 'x')),
    good((d) => (d.OldImage = null)),
    good((d) => (d.NewImage = null)),
    good((d) => delete d.ApproximateCreationDateTime),
    good((d) => (d.ApproximateCreationDateTime = 'soon')),
    good((d) => (d.ApproximateCreationDateTime = -5)),
    good((d) => (d.ApproximateCreationDateTime = 1e12)),
    good((d) => ((d.NewImage as Value).bad = { S: 5 })),
    good((d) => ((d.NewImage as Value).bad = { N: 'abc' })),
    good((d) => ((d.NewImage as Value).bad = { N: 'NaN' })),
    good((d) => ((d.NewImage as Value).bad = { N: '' })),
    good((d) => ((d.NewImage as Value).bad = { N: ' 12 ' })),
    good((d) => ((d.NewImage as Value).bad = { BOOL: 'yes' })),
    good((d) => ((d.NewImage as Value).bad = { X: 1 })),
    good((d) => ((d.NewImage as Value).bad = {})),
    good((d) => ((d.NewImage as Value).bad = null)),
    good((d) => ((d.NewImage as Value).bad = 'S')),
    good((d) => ((d.NewImage as Value).bad = { L: {} })),
    good((d) => ((d.NewImage as Value).bad = { L: [{ S: 'a' }, { N: 'x' }] })),
    good((d) => ((d.NewImage as Value).bad = { M: [] })),
    good((d) => ((d.NewImage as Value).bad = { M: { deep: { M: { deeper: { Q: 1 } } } } })),
    good((d) => ((d.NewImage as Value).bad = { SS: 'a' })),
    good((d) => ((d.NewImage as Value).bad = { SS: ['a', 1] })),
    good((d) => ((d.NewImage as Value).bad = { NS: ['1', 'x'] })),
    good((d) => ((d.NewImage as Value).bad = { B: 5 })),
    good((d) => ((d.NewImage as Value).bad = { BS: ['AA==', 5] })),
    good((d) => ((d.NewImage as Value).many = { S: 'both', N: '1', BOOL: true })),
    good((d) => ((d.NewImage as Value).nullFalse = { NULL: false })),
    good((d) => ((d.NewImage as Value).nested = { M: JSON.parse('{"__proto__":{"S":"p"},"ok":{"N":"1"}}') })),
    good((d) => (d.NewImage = JSON.parse('{"__proto__":{"N":"1"},"id":{"S":"k"},"siteId":{"S":"2"}}'))),
    good((d) => (d.NewImage = JSON.parse('{"__proto__":{"S":5},"id":{"S":"k"},"siteId":{"S":"2"}}'))),
    good((d) => ((d.NewImage as Value).siteId = { NULL: true })),
    good((d) => ((d.NewImage as Value).siteId = { SS: ['a'] })),
    good((d) => ((d.NewImage as Value).siteId = { N: '+7' })),
    good((d) => ((d.NewImage as Value).siteId = { BOOL: false })),
    good((d) => ((d.NewImage as Value).siteId = { S: '' })),
    good((d) => ((d.NewImage as Value).siteId = { S: 'a/b=c d%' })),
    good((d) => ((d.NewImage as Value).siteId = { S: 's'.repeat(23) })),
    good((d) => ((d.NewImage as Value).siteId = { S: 's'.repeat(200) })),
    good((d) => ((d.NewImage as Value).siteId = { S: 's'.repeat(201) })),
    good((d) => ((d.NewImage as Value).siteId = { S: 'ü'.repeat(40) })),
    good((d) => delete (d.NewImage as Value).siteId),
    good((d) => {
      delete (d.NewImage as Value).siteId;
      d.Keys = { id: { S: 'k' }, siteId: { S: 'from-keys' } };
    }),
    good((d) => ((d.NewImage as Value).createdAtTime = { N: '-1' })),
    good((d) => ((d.NewImage as Value).createdAtTime = { S: '1700076551926' })),
    good((d) => ((d.NewImage as Value).createdAtTime = { S: 'nope' })),
    good((d) => ((d.NewImage as Value).createdAtTime = { N: '253402300800000' })),
    good((d) => delete (d.NewImage as Value).createdAtTime),
    good((_, r) => (r.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' })),
  );
  return records;
}

/** Table configs covering the default partitioning, time parts, attribute parts and every event-time unit. */
export const TABLES = [
  { name: 'Visits' },
  {
    name: 'Vis"its ü',
    pipe: {
      partitionBy: ['siteId', 'year', 'month', 'day', 'hour', 'minute'],
      eventTime: { attribute: 'createdAtTime', unit: 'ms' as const },
    },
  },
  { name: 'T', pipe: { partitionBy: ['flag', 'n', 'id'], eventTime: { attribute: 'when', unit: 'iso' as const } } },
  {
    name: 'S',
    ttlAttribute: 'expires',
    pipe: { partitionBy: ['year'], eventTime: { attribute: 'sec', unit: 's' as const } },
  },
  { name: 'K', pipe: { partitionBy: ['siteId'] } },
];

/** Writer options small enough that files split by size, by total bytes and by open partitions. */
export const WRITER_OPTIONS = { maxBytes: 6000, maxTotalBytes: 20000, maxOpenPartitions: 4 };
