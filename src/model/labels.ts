// The label vector [category one-hot | style one-hot | word multi-hot] from user choices.
import type { LabelSpec } from './format.ts';

export interface LabelChoice {
  category?: string | null; // null or absent: any category
  style?: string | null; // null or absent: any style
  prompt?: string; // words of emoji names, e.g. "smiling cat"
}

export class UnknownWordError extends Error {
  override name = 'UnknownWordError';
  constructor(readonly words: { word: string; suggestions: string[] }[]) {
    const hint = (s: string[]) => (s.length ? ` (did you mean ${s.map((x) => `"${x}"`).join(', ')}?)` : '');
    super(words.map((w) => `unknown word "${w.word}"${hint(w.suggestions)}`).join('; '));
  }
}

/** Lower-case, split on spaces, commas, '_' and '-', keep [a-z0-9], drop stop words (as the dataset does). */
export function promptWords(prompt: string, stopWords: readonly string[] = []): string[] {
  const stop = new Set(stopWords);
  return prompt
    .toLowerCase()
    .split(/[\s,_-]+/)
    .map((w) => w.replace(/[^a-z0-9]/g, ''))
    .filter((w) => w && !stop.has(w));
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The closest vocabulary words (edit distance ≤ 2, or a shared prefix), best first. */
export function suggestWords(word: string, vocab: readonly string[], n = 3): string[] {
  return vocab
    .map((v) => {
      const d = editDistance(word, v);
      return { v, dist: v.startsWith(word) || word.startsWith(v) ? Math.min(1, d) : d };
    })
    .filter((s) => s.dist <= Math.max(1, Math.min(2, word.length - 2)))
    .sort((x, y) => x.dist - y.dist || x.v.length - y.v.length || (x.v < y.v ? -1 : 1))
    .slice(0, n)
    .map((s) => s.v);
}

/** Throws UnknownWordError listing every word not in the vocabulary, with suggestions. */
export function labelVector(spec: LabelSpec & { stop_words?: string[] }, choice: LabelChoice,
  labelDim: number): Float32Array {
  const y = new Float32Array(labelDim);
  const set = (group: keyof LabelSpec['groups'], index: number) => (y[spec.groups[group][0] + index] = 1);
  if (choice.category) {
    const i = spec.categories.indexOf(choice.category);
    if (i < 0) throw new Error(`unknown category "${choice.category}"; valid: ${spec.categories.join(', ')}`);
    set('category', i);
  }
  if (choice.style) {
    const i = spec.styles.indexOf(choice.style);
    if (i < 0) throw new Error(`unknown style "${choice.style}"; valid: ${spec.styles.join(', ')}`);
    set('style', i);
  }
  const unknown: { word: string; suggestions: string[] }[] = [];
  for (const w of promptWords(choice.prompt ?? '', spec.stop_words)) {
    const i = spec.vocab.indexOf(w);
    if (i < 0) unknown.push({ word: w, suggestions: suggestWords(w, spec.vocab) });
    else set('words', i);
  }
  if (unknown.length) throw new UnknownWordError(unknown);
  return y;
}
