/**
 * Edit distance between two strings (optimal string alignment: insertions, deletions, substitutions and
 * swaps of two adjacent characters each cost 1), so `fliter` is one edit from `filter`.
 *
 * @example
 * editDistance('partitonBy', 'partitionBy') // 1
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows are enough for the adjacent-swap rule.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known key a misspelled one most likely meant: the closest by {@link editDistance} (case-insensitive),
 * if it is within a third of the key's length (at least 1 edit, at most 3). `undefined` when none is close.
 *
 * @example
 * suggestKey('fliter', ['filter', 'partitionBy']) // 'filter'
 * suggestKey('colour', ['filter']) // undefined
 */
export function suggestKey(key: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
