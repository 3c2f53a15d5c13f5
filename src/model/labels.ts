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

/** A category a share must reach among the prompt's words before the prompt chooses it. */
export const PROMPT_CATEGORY_SHARE = 0.5;

/**
 * The category a prompt's words name, for a prompt without a chosen category (null: none clearly). Each
 * known word votes with the share of its training emoji in each category (labels.word_categories); the
 * category with the highest mean share is taken when that mean is at least PROMPT_CATEGORY_SHARE. "cake":
 * Food & Drink (all 33 of its emoji); "cat": Smileys & Emotion (79 of 103 are cat faces); "face": Smileys &
 * Emotion (0.66). The model was trained mostly on whole labels, rarely on words alone (train/train.py
 * --group-drop), so words with their category draw their emoji far more often (docs/eval/prompts.md).
 */
export function promptCategory(spec: LabelSpec & { stop_words?: string[] }, prompt: string): string | null {
  const shares = promptWords(prompt, spec.stop_words)
    .map((w) => spec.word_categories?.[spec.vocab.indexOf(w)] ?? [])
    .filter((counts) => counts.some((c) => c > 0))
    .map((counts) => {
      const n = counts.reduce((a, b) => a + b, 0);
      return counts.map((c) => c / n);
    });
  if (!shares.length) return null;
  const mean = spec.categories.map((_, c) => shares.reduce((s, r) => s + r[c], 0) / shares.length);
  const best = mean.indexOf(Math.max(...mean));
  return mean[best] >= PROMPT_CATEGORY_SHARE ? spec.categories[best] : null;
}

/**
 * Throws UnknownWordError listing every word not in the vocabulary, with suggestions. Without a chosen
 * category, the prompt's (promptCategory) is set.
 */
export function labelVector(spec: LabelSpec & { stop_words?: string[] }, choice: LabelChoice,
  labelDim: number): Float32Array {
  const y = new Float32Array(labelDim);
  const set = (group: keyof LabelSpec['groups'], index: number) => (y[spec.groups[group][0] + index] = 1);
  const category = choice.category || promptCategory(spec, choice.prompt ?? '');
  if (category) {
    const i = spec.categories.indexOf(category);
    if (i < 0) throw new Error(`unknown category "${category}"; valid: ${spec.categories.join(', ')}`);
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
