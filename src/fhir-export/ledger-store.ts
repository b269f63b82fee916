/** A ledger item: `pk`, `sk` and plain JSON attributes. */
export type LedgerItem = { pk: string; sk: string } & Record<string, unknown>;

/**
 * A condition on the item currently stored under the same key. A list of conditions means ANY of them
 * (DynamoDB `ConditionExpression` joined with OR).
 */
export type PutCondition =
  | { kind: 'absent' }
  | { kind: 'equals'; attribute: string; value: string | number }
  | { kind: 'lessThan'; attribute: string; value: number };

/**
 * Port: a small key-value table with conditional writes (DynamoDB in AWS and locally; memory in unit tests).
 *
 * @example
 * const won = await store.put({ pk: 'LOCK', sk: 'export', owner }, [{ kind: 'absent' }]);
 */
export interface LedgerStore {
  get(pk: string, sk: string): Promise<LedgerItem | undefined>;
  /** Writes the item; returns false (and writes nothing) when no condition holds. No conditions = unconditional. */
  put(item: LedgerItem, anyOf?: readonly PutCondition[]): Promise<boolean>;
  /** Deletes the item; returns false when no condition holds. */
  delete(pk: string, sk: string, anyOf?: readonly PutCondition[]): Promise<boolean>;
  /** Every item of a partition, in sort-key order. */
  query(pk: string): Promise<LedgerItem[]>;
}

/**
 * An in-memory {@link LedgerStore} (unit tests).
 *
 * @example
 * const store = new InMemoryLedgerStore();
 */
export class InMemoryLedgerStore implements LedgerStore {
  private readonly items = new Map<string, LedgerItem>();

  public async get(pk: string, sk: string): Promise<LedgerItem | undefined> {
    const item = this.items.get(keyOf(pk, sk));
    return item ? structuredClone(item) : undefined;
  }

  public async put(item: LedgerItem, anyOf?: readonly PutCondition[]): Promise<boolean> {
    if (!holds(this.items.get(keyOf(item.pk, item.sk)), anyOf)) return false;
    this.items.set(keyOf(item.pk, item.sk), structuredClone(item));
    return true;
  }

  public async delete(pk: string, sk: string, anyOf?: readonly PutCondition[]): Promise<boolean> {
    if (!holds(this.items.get(keyOf(pk, sk)), anyOf)) return false;
    this.items.delete(keyOf(pk, sk));
    return true;
  }

  public async query(pk: string): Promise<LedgerItem[]> {
    return [...this.items.values()]
      .filter((item) => item.pk === pk)
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .map((item) => structuredClone(item));
  }
}

function keyOf(pk: string, sk: string): string {
  return `${pk}\u0000${sk}`;
}

function holds(current: LedgerItem | undefined, anyOf: readonly PutCondition[] | undefined): boolean {
  if (!anyOf || anyOf.length === 0) return true;
  return anyOf.some((condition) => {
    if (condition.kind === 'absent') return current === undefined;
    if (!current) return false;
    const value = current[condition.attribute];
    if (condition.kind === 'equals') return value === condition.value;
    return typeof value === 'number' && value < condition.value;
  });
}
