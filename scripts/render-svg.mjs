// Renders SVGs to square RGBA PNGs with resvg (for train/dataset.py).
//   node scripts/render-svg.mjs SIZE < jobs.jsonl      one {"svg": "...", "out": "path.png"} per line
// Writes each PNG to out (through a temporary name, so a killed run leaves no half file), or the
// error to out + ".err" when the SVG does not parse or renders blank. One line per job on stdout
// ("ok" | "err"), for progress. System fonts are not loaded: renders are the same on every machine.
import { renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Resvg } from '@resvg/resvg-js';

const size = Number(process.argv[2]);
if (!Number.isInteger(size) || size < 1) throw new Error(`usage: render-svg.mjs SIZE < jobs.jsonl (got SIZE "${process.argv[2]}")`);

function render(svg) {
  const r = new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } });
  const img = r.render();
  if (img.width !== size || img.height !== size) throw new Error(`rendered ${img.width}×${img.height}, expected ${size}×${size} (not square?)`);
  const px = img.pixels;
  let opaque = false;
  for (let i = 3; i < px.length && !opaque; i += 4) opaque = px[i] > 0;
  if (!opaque) throw new Error('renders blank (every pixel transparent)');
  return img.asPng();
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line) continue;
  const { svg, out } = JSON.parse(line);
  try {
    writeFileSync(`${out}.tmp`, render(svg));
    renameSync(`${out}.tmp`, out);
    process.stdout.write('ok\n');
  } catch (e) {
    writeFileSync(`${out}.err`, String(e?.message ?? e));
    process.stdout.write('err\n');
  }
}
