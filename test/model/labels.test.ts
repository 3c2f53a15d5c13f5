// Labels from user choices (src/model/labels.ts): the category a prompt's words name when none is chosen.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labelVector, PROMPT_CATEGORY_SHARE, promptCategory } from '../../src/model/labels';
import { parseModelJson } from '../../src/model/load';

// Three categories, four words; word_categories[w][c]: training emoji of category c with word w.
const SPEC = {
  categories: ['Animals', 'Food', 'Smileys'],
  styles: ['google'],
  vocab: ['dog', 'hot', 'cake', 'grin'],
  groups: { category: [0, 3], style: [3, 4], words: [4, 8] } as Record<'category' | 'style' | 'words', [number, number]>,
  stop_words: ['a'],
  word_categories: [[8, 2, 0], [0, 1, 3], [0, 5, 0], [0, 0, 0]],
};

describe('promptCategory', () => {
  it('takes the category with the highest mean share over the known words, at least the threshold', () => {
    expect(PROMPT_CATEGORY_SHARE).toBe(0.5);
    expect(promptCategory(SPEC, 'dog')).toBe('Animals'); // 0.8
    expect(promptCategory(SPEC, 'a cake')).toBe('Food'); // stop word dropped; 1.0
    expect(promptCategory(SPEC, 'hot')).toBe('Smileys'); // 0.75
    // dog + hot: Animals (0.8 + 0) / 2 = 0.4, Food (0.2 + 0.25) / 2, Smileys (0 + 0.75) / 2 = 0.375: none reaches 0.5
    expect(promptCategory(SPEC, 'hot dog')).toBeNull();
    // dog + cake: Food (0.2 + 1) / 2 = 0.6
    expect(promptCategory(SPEC, 'dog cake')).toBe('Food');
  });

  it('ignores words it has no counts for, unknown words included; no counts at all: none', () => {
    expect(promptCategory(SPEC, 'grin cake zebra')).toBe('Food');
    expect(promptCategory(SPEC, 'grin')).toBeNull();
    expect(promptCategory(SPEC, '')).toBeNull();
    expect(promptCategory({ ...SPEC, word_categories: undefined }, 'dog')).toBeNull();
  });
});

describe('labelVector', () => {
  const slots = (y: Float32Array) => [...y.keys()].filter((i) => y[i] === 1);

  it('sets the prompt\'s category when none is chosen, and the chosen one otherwise', () => {
    expect(slots(labelVector(SPEC, { prompt: 'dog' }, 8))).toEqual([0, 4]);
    expect(slots(labelVector(SPEC, { category: 'Smileys', prompt: 'dog' }, 8))).toEqual([2, 4]);
    expect(slots(labelVector(SPEC, { category: null, style: 'google', prompt: 'hot dog' }, 8))).toEqual([3, 4, 5]);
  });

  it('on the shipped model: "cake" is food, "car" travel, "flag" a flag, and "cat" the cat faces', () => {
    const meta = parseModelJson(readFileSync('public/models/lego-emoji-32/model.json', 'utf8'));
    const category = (prompt: string) => promptCategory(meta.labels, prompt);
    expect(category('cake')).toBe('Food & Drink');
    expect(category('car')).toBe('Travel & Places');
    expect(category('flag')).toBe('Flags');
    expect(category('heart')).toBe('Smileys & Emotion');
    expect(category('cat')).toBe('Smileys & Emotion'); // most emoji named "cat" are cat faces
    expect(category('dog')).toBe('Animals & Nature');
  });
});
