/**
 * A one-pass JSON validator over the UTF-8 bytes of one NDJSON line that also finds the few fields process-file needs
 * (`resourceType`, `id`, `meta.lastUpdated`, `meta.versionId`), without building the resource: no objects, no strings,
 * no garbage per line.
 *
 * It answers "the fast path applies" only when it is sure `JSON.parse` would accept the line and give exactly these
 * fields: the line is one JSON object, every field read is a string without escapes, no key at the levels it reads
 * has escapes, nesting stays under {@link MAX_DEPTH}. Anything else (invalid JSON, an escape, a field of another
 * type, deep nesting) answers "not sure", and the caller takes the slow path (`JSON.parse`), which decides.
 * The bytes must be valid UTF-8 (checked by the caller per block).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Deeper lines take the slow path (JSON.parse decides how deep is too deep). */
export const MAX_DEPTH = 512;

const KEY_RESOURCE_TYPE = Buffer.from('resourceType');
const KEY_ID = Buffer.from('id');
const KEY_META = Buffer.from('meta');
const KEY_LAST_UPDATED = Buffer.from('lastUpdated');
const KEY_VERSION_ID = Buffer.from('versionId');

/** Which field the value being read is. */
const enum Field {
  None,
  ResourceType,
  Id,
  Meta,
  LastUpdated,
  VersionId,
}

/** Escape characters allowed after a backslash, by byte. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/**
 * Scans NDJSON resource lines; the fields of the last line scanned are offsets into its buffer (`-1` when absent).
 *
 * @example
 * const scanner = new ResourceLineScanner();
 * if (scanner.scan(line, 0, line.length) && scanner.lastUpdatedStart >= 0)
 *   line.toString('latin1', scanner.lastUpdatedStart, scanner.lastUpdatedEnd); // '2024-03-05T10:00:00Z'
 */
export class ResourceLineScanner {
  public resourceTypeStart = -1;
  public resourceTypeEnd = -1;
  public idStart = -1;
  public idEnd = -1;
  /** `meta.lastUpdated` of the last `meta` object, when a string. */
  public lastUpdatedStart = -1;
  public lastUpdatedEnd = -1;
  /** `meta.versionId` of the last `meta` object, when a string. */
  public versionIdStart = -1;
  public versionIdEnd = -1;
  /** 1 for an object, 2 for an array, per depth. */
  private readonly stack = new Uint8Array(MAX_DEPTH + 1);
  private buf: Uint8Array = new Uint8Array(0);
  private end = 0;
  /** End of the last string scanned, and whether it had escapes. */
  private stringEnd = 0;
  private stringEscaped = false;

  /**
   * Scans `buf[start, end)`. True when it is one valid JSON object whose `resourceType` and `id` are escape-free
   * strings and whose `meta` (if any, and if an object) has no `lastUpdated`/`versionId` of another type or with
   * escapes; false when the caller must decide with `JSON.parse`.
   *
   * @example
   * scanner.scan(Buffer.from('{"resourceType":"Patient","id":"a"}'), 0, 35) // true
   */
  public scan(buf: Uint8Array, start: number, end: number): boolean {
    this.buf = buf;
    this.end = end;
    this.resourceTypeStart = this.resourceTypeEnd = this.idStart = this.idEnd = -1;
    this.lastUpdatedStart = this.lastUpdatedEnd = this.versionIdStart = this.versionIdEnd = -1;
    if (start >= end || buf[start] !== OPEN_OBJECT) return false;
    const stack = this.stack;
    let i = start;
    let depth = 0;
    /** Depth of the `meta` object being read (2 while inside the top-level meta), else 0. */
    let metaDepth = 0;
    let field = Field.None;
    // States: 0 value expected, 1 value or `]` expected, 2 key or `}` expected, 3 key expected, 4 `,` or close expected.
    let state = 0;
    for (;;) {
      let c = 0;
      // Skip JSON whitespace.
      while (i < end) {
        c = buf[i]!;
        if (c !== SPACE && c !== TAB && c !== LF && c !== CR) break;
        i += 1;
      }
      if (i >= end) return false;
      if (state === 4) {
        if (c === COMMA) {
          state = stack[depth] === 1 ? 3 : 0;
          i += 1;
          continue;
        }
        if (c === (stack[depth] === 1 ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          if (depth === metaDepth) metaDepth = 0;
          depth -= 1;
          i += 1;
          if (depth === 0) return this.finish(i);
          continue;
        }
        return false;
      }
      if (state === 2 || state === 3) {
        if (c === CLOSE_OBJECT && state === 2) {
          if (depth === metaDepth) metaDepth = 0;
          depth -= 1;
          i += 1;
          if (depth === 0) return this.finish(i);
          state = 4;
          continue;
        }
        if (c !== QUOTE || !this.string(i)) return false;
        const keyStart = i + 1;
        const keyEnd = this.stringEnd - 1;
        i = this.stringEnd;
        field = Field.None;
        if (depth === 1) {
          if (this.stringEscaped) return false;
          field = this.topField(keyStart, keyEnd);
        } else if (depth === metaDepth) {
          if (this.stringEscaped) return false;
          if (equals(buf, keyStart, keyEnd, KEY_LAST_UPDATED)) field = Field.LastUpdated;
          else if (equals(buf, keyStart, keyEnd, KEY_VERSION_ID)) field = Field.VersionId;
        }
        while (i < end && ((c = buf[i]!) === SPACE || c === TAB || c === LF || c === CR)) i += 1;
        if (i >= end || buf[i] !== COLON) return false;
        i += 1;
        state = 0;
        continue;
      }
      // A value (state 0 or 1).
      if (c === CLOSE_ARRAY && state === 1) {
        depth -= 1;
        i += 1;
        state = 4;
        continue;
      }
      if (c === QUOTE) {
        if (!this.string(i)) return false;
        if (field !== Field.None) {
          if (this.stringEscaped) return false;
          this.setField(field, i + 1, this.stringEnd - 1);
        }
        i = this.stringEnd;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (depth === MAX_DEPTH) return false;
        if (depth === 0 && c !== OPEN_OBJECT) return false;
        if (field === Field.Meta) {
          if (c === OPEN_OBJECT) metaDepth = depth + 1;
        } else if (field !== Field.None) return false;
        depth += 1;
        stack[depth] = c === OPEN_OBJECT ? 1 : 2;
        i += 1;
        state = c === OPEN_OBJECT ? 2 : 1;
        field = Field.None;
        continue;
      } else if (depth === 0) {
        return false;
      } else {
        // A number or a literal: not a field process-file reads (`meta` of another type means "no meta").
        if (field !== Field.None && field !== Field.Meta) return false;
        if (c === MINUS || (c >= ZERO && c <= NINE)) i = this.number(i);
        else if (c === 0x74) i = this.literal(i, 'true');
        else if (c === 0x66) i = this.literal(i, 'false');
        else if (c === 0x6e) i = this.literal(i, 'null');
        else return false;
        if (i < 0) return false;
      }
      field = Field.None;
      state = 4;
    }
  }

  /** The field a top-level key names; a new `meta` forgets what the previous one said (the last key wins). */
  private topField(start: number, end: number): Field {
    const buf = this.buf;
    const length = end - start;
    if (length === 2 && equals(buf, start, end, KEY_ID)) return Field.Id;
    if (length === 12 && equals(buf, start, end, KEY_RESOURCE_TYPE)) return Field.ResourceType;
    if (length === 4 && equals(buf, start, end, KEY_META)) {
      this.lastUpdatedStart = this.lastUpdatedEnd = this.versionIdStart = this.versionIdEnd = -1;
      return Field.Meta;
    }
    return Field.None;
  }

  private setField(field: Field, start: number, end: number): void {
    switch (field) {
      case Field.ResourceType:
        this.resourceTypeStart = start;
        this.resourceTypeEnd = end;
        break;
      case Field.Id:
        this.idStart = start;
        this.idEnd = end;
        break;
      case Field.LastUpdated:
        this.lastUpdatedStart = start;
        this.lastUpdatedEnd = end;
        break;
      case Field.VersionId:
        this.versionIdStart = start;
        this.versionIdEnd = end;
        break;
      default:
        // `meta` as a string: no meta fields (they were reset when the key was read).
        break;
    }
  }

  /** Only whitespace may follow the top-level object. */
  private finish(i: number): boolean {
    const buf = this.buf;
    for (; i < this.end; i += 1) {
      const c = buf[i];
      if (c !== SPACE && c !== TAB && c !== LF && c !== CR) return false;
    }
    return this.resourceTypeStart >= 0 && this.idStart >= 0;
  }

  /** Scans the string opening at `i` (a quote); sets `stringEnd` past its closing quote. False when invalid. */
  private string(i: number): boolean {
    const buf = this.buf;
    const end = this.end;
    let escaped = false;
    i += 1;
    while (i < end) {
      const c = buf[i]!;
      if (c === QUOTE) {
        this.stringEnd = i + 1;
        this.stringEscaped = escaped;
        return true;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const e = i + 1 < end ? buf[i + 1]! : 0;
        if (SIMPLE_ESCAPE[e] === 1) i += 2;
        else if (e === 0x75) {
          if (i + 5 >= end) return false;
          if (HEX[buf[i + 2]!] !== 1 || HEX[buf[i + 3]!] !== 1 || HEX[buf[i + 4]!] !== 1 || HEX[buf[i + 5]!] !== 1)
            return false;
          i += 6;
        } else return false;
        continue;
      }
      if (c < SPACE) return false;
      i += 1;
    }
    return false;
  }

  /** Scans a JSON number at `i`; returns the index after it, or -1 when invalid. */
  private number(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (buf[i] === MINUS) i += 1;
    if (i >= end) return -1;
    let c = buf[i]!;
    if (c === ZERO) i += 1;
    else if (c > ZERO && c <= NINE) {
      i += 1;
      while (i < end && (c = buf[i]!) >= ZERO && c <= NINE) i += 1;
    } else return -1;
    if (i < end && buf[i] === DOT) {
      i += 1;
      const digits = i;
      while (i < end && (c = buf[i]!) >= ZERO && c <= NINE) i += 1;
      if (i === digits) return -1;
    }
    if (i < end && ((c = buf[i]!) === LOWER_E || c === UPPER_E)) {
      i += 1;
      if (i < end && ((c = buf[i]!) === PLUS || c === MINUS)) i += 1;
      const digits = i;
      while (i < end && (c = buf[i]!) >= ZERO && c <= NINE) i += 1;
      if (i === digits) return -1;
    }
    return i;
  }

  private literal(i: number, word: string): number {
    if (i + word.length > this.end) return -1;
    for (let k = 0; k < word.length; k += 1) if (this.buf[i + k] !== word.charCodeAt(k)) return -1;
    return i + word.length;
  }
}

function equals(buf: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k += 1) if (buf[start + k] !== key[k]) return false;
  return true;
}

/**
 * `d` when `buf[i]` is an ASCII digit, else -1,000,000: far below any sum of weighted digits (a year's other three digits
 * reach 9,990), so a field with a non-digit anywhere, even in its units place, comes out negative.
 */
function digit(buf: Uint8Array, i: number): number {
  const d = buf[i]! - ZERO;
  return d >= 0 && d <= 9 ? d : -1_000_000;
}

/**
 * The UTC date of an instant written exactly `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (how servers write
 * `meta.lastUpdated`) at `buf[start, end)`, as `year * 512 + month * 32 + day`; -1 for any other form, and for days
 * past the 28th (where `Date` would roll over into the next month), which callers then parse with `Date`. For the forms
 * it accepts, `new Date(text)` is valid and falls on that UTC date.
 *
 * @example
 * canonicalUtcDate(Buffer.from('2024-03-05T10:00:00.000Z'), 0, 24) // 2024 * 512 + 3 * 32 + 5
 */
export function canonicalUtcDate(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 24) {
    if (buf[start + 19] !== DOT || buf[start + 23] !== 0x5a) return -1;
    if (digit(buf, start + 20) + digit(buf, start + 21) + digit(buf, start + 22) < 0) return -1;
  } else if (length !== 20 || buf[start + 19] !== 0x5a) return -1;
  if (buf[start + 4] !== MINUS || buf[start + 7] !== MINUS || buf[start + 10] !== 0x54) return -1;
  if (buf[start + 13] !== COLON || buf[start + 16] !== COLON) return -1;
  const year =
    digit(buf, start) * 1000 + digit(buf, start + 1) * 100 + digit(buf, start + 2) * 10 + digit(buf, start + 3);
  const month = digit(buf, start + 5) * 10 + digit(buf, start + 6);
  const day = digit(buf, start + 8) * 10 + digit(buf, start + 9);
  const hour = digit(buf, start + 11) * 10 + digit(buf, start + 12);
  const minute = digit(buf, start + 14) * 10 + digit(buf, start + 15);
  const second = digit(buf, start + 17) * 10 + digit(buf, start + 18);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 28) return -1;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  return year * 512 + month * 32 + day;
}
