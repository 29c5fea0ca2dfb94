/**
 * The nearest known word to a mistyped one (a command, an option), for a
 * "did you mean" hint. Pure.
 */

/** Edits (insert, delete, replace, swap two neighbours) that turn a into b: optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known word nearest to `word`, when it is near enough to be a slip:
 * at most 2 edits, and at most a third of the word's length (so that a short
 * word does not "correct" to an unrelated one). Ties go to the first listed.
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const allowed = Math.min(2, Math.max(1, Math.floor(word.replace(/^-+/, "").length / 3)));
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}

/** " (did you mean X?)" when a known word is near, else "". */
export function didYouMean(word: string, known: readonly string[]): string {
  const found = nearest(word, known);
  return found === undefined ? "" : ` (did you mean ${found}?)`;
}
