// Autocomplete over the model's vocabulary.

/** Vocabulary words for a partial word: prefix matches first, then other substrings. */
export function completions(part: string, vocab: readonly string[], n = 8): string[] {
  const p = part.toLowerCase();
  if (!p) return [];
  const pre = vocab.filter((v) => v.startsWith(p));
  const mid = vocab.filter((v) => !v.startsWith(p) && v.includes(p));
  return [...pre.sort((a, b) => a.length - b.length || (a < b ? -1 : 1)), ...mid].slice(0, n);
}
