/**
 * What a Distributed Map's ItemReader makes of the object `s3:getObject` returns, by `ReaderConfig.InputType`:
 * `JSON`, an array (each element an item); `JSONL`, JSON Lines (each non-empty line an item), as AWS reads them.
 */
import { StatesRuntimeError } from './errors.js';

/** The ItemReader input types the executor supports. */
export const ITEM_READER_INPUT_TYPES = ['JSON', 'JSONL'] as const;
export type ItemReaderInputType = (typeof ITEM_READER_INPUT_TYPES)[number];

/**
 * The items of an object read by an ItemReader. `body` is what the bound handler returned: JSON text or bytes, or
 * (JSON only) the already parsed value. Failures are `States.ItemReaderFailed` naming the state (and the line).
 *
 * @example
 * itemsOfObject('{"a":1}\n{"a":2}\n', 'JSONL', 'LandFiles') // [{ a: 1 }, { a: 2 }]
 */
export function itemsOfObject(body: unknown, inputType: ItemReaderInputType, stateName: string): unknown[] {
  const text =
    typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined;
  if (inputType === 'JSONL') {
    if (text === undefined)
      throw new StatesRuntimeError(
        'States.ItemReaderFailed',
        `ItemReader of '${stateName}': a JSONL object must be read as text or bytes`,
      );
    const items: unknown[] = [];
    for (const [index, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      try {
        items.push(JSON.parse(line) as unknown);
      } catch {
        throw new StatesRuntimeError(
          'States.ItemReaderFailed',
          `ItemReader of '${stateName}': line ${index + 1} is not valid JSON`,
        );
      }
    }
    return items;
  }
  let items = body;
  if (text !== undefined) {
    try {
      items = JSON.parse(text) as unknown;
    } catch {
      throw new StatesRuntimeError(
        'States.ItemReaderFailed',
        `ItemReader of '${stateName}': the object is not valid JSON`,
      );
    }
  }
  if (!Array.isArray(items))
    throw new StatesRuntimeError(
      'States.ItemReaderFailed',
      `ItemReader of '${stateName}': the JSON object must be an array`,
    );
  return items;
}
