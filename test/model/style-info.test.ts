// model.json's optional style_info: previews must be PNG data URLs (never an arbitrary address).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelJson } from '../../src/model/load';

const tiny = JSON.parse(readFileSync('test/fixtures/tiny/model.json', 'utf8'));
const withPreview = (preview: string) => JSON.stringify({
  ...tiny, style_info: { google: { title: 'Noto Emoji', author: 'Google', url: '', license: 'Apache-2.0', license_url: '', credit: '', preview } },
});

describe('style_info', () => {
  it('is optional', () => {
    expect(parseModelJson(JSON.stringify(tiny)).style_info).toBeUndefined();
  });

  it('accepts a PNG data URL and rejects anything else, naming the style', () => {
    expect(parseModelJson(withPreview('data:image/png;base64,iVBORw0KGgo=')).style_info?.google.title).toBe('Noto Emoji');
    expect(() => parseModelJson(withPreview('https://example.com/a.png'))).toThrow(/style_info\.google\.preview must be a PNG data URL, got "https:\/\/example.com\/a.png"/);
  });
});
