// The model the app ships: its files load and validate, labels and vocabulary are there, and the
// engine draws a non-blank image from it (1 Euler step, so it stays quick on SwiftShader).
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { LegoEngine } from '../../src/engine/engine';
import { loadModel, parseModelJson } from '../../src/model/load';
import { getTestGpu } from '../gpu';

const DIR = new URL('../../public/models/lego-emoji-32/', import.meta.url);

describe('shipped model lego-emoji-32', () => {
  it('ships a real preview image and a credit for each of its styles', () => {
    const meta = parseModelJson(readFileSync(new URL('model.json', DIR), 'utf8'));
    expect(Object.keys(meta.style_info ?? {})).toEqual(meta.labels.styles);
    for (const info of Object.values(meta.style_info!)) {
      const png = PNG.sync.read(Buffer.from(info.preview!.split(',')[1], 'base64'));
      expect([png.width, png.height]).toEqual([32, 32]);
      expect(info.credit).toContain(info.license);
    }
  });

  it('loads, validates and generates', async () => {
    const meta = parseModelJson(readFileSync(new URL('model.json', DIR), 'utf8'));
    const model = await loadModel(meta, new Uint8Array(readFileSync(new URL(meta.weights.file, DIR))));
    expect(meta.dtype).toBe('F16');
    expect(meta.labels.categories).toContain('Animals & Nature');
    expect(meta.labels.vocab.length).toBeGreaterThan(500);
    expect(meta.architecture.label_dim).toBe(meta.labels.categories.length + meta.labels.styles.length + meta.labels.vocab.length);
    expect(meta.training?.images_seen).toBeGreaterThan(0);
    const engine = await LegoEngine.create(await getTestGpu(), model);
    const r = await engine.generate({
      width: 32, height: 32, steps: 1, sampler: 'euler', guidance: 1, seed: 1, batch: 1,
      labels: { category: 'Smileys & Emotion', prompt: 'smiling face' }, bricks: meta.architecture.bricks.map(() => ({ enabled: true })),
    });
    const px = r.images.images[0];
    const values = new Set<number>();
    for (let i = 0; i < px.length; i += 4) values.add(px[i]);
    expect(values.size).toBeGreaterThan(8); // not a flat image
    engine.destroy();
  });
});
