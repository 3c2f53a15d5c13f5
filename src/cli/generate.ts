// Node CLI: generate a PNG grid with a LEGO model on WebGPU (Dawn; SwiftShader without a GPU) or
// on the CPU engine (onnxruntime-web wasm), from noise or from a start image (restyle, repaint).
//   npm run generate -- --size 64x32 --steps 18 --guidance 2 --category "Animals & Nature" --style twitter \
//     --bricks 1,2,3 --skip 3:0.6-1.0 --seed 7 --batch 4 --out out.png
//   npm run generate -- --init-image cat.png --strength 50% --style openmoji --out restyled.png
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LegoEngine } from '../engine/engine.ts';
import { createNodeCpuEngine } from '../engine-cpu/node.ts';
import { LIMITS, validateOptions } from '../engine/options.ts';
import { parseSkip } from '../engine/schedule.ts';
import { editSteps, imageFromRgba } from '../engine/start.ts';
import type { BrickSetting, Engine, GenerateOptions } from '../engine/types.ts';
import { acquireNodeDevice } from '../gpu/node.ts';
import { labelVector, promptCategory } from '../model/labels.ts';
import { loadModel, parseModelJson } from '../model/load.ts';
import { readMask, readStartImage } from './image.ts';
import { encodeGrid } from './png.ts';

const HELP = `usage: npm run generate -- [options]
  --engine E         webgpu | cpu (default webgpu; cpu: onnxruntime-web wasm, fast without a GPU)
  --model DIR        model folder with model.json + weights (default public/models/lego-emoji-32)
  --size WxH         canvas, multiples of the model's canvas unit (default 32x32; e.g. 64x64, 128x32)
  --steps N          sampling steps ${LIMITS.steps.join('–')} (default 18)
  --sampler S        heun | euler (default heun)
  --guidance W       classifier-free guidance scale ${LIMITS.guidance.join('–')}, 1 = none (default 2)
  --category NAME    one of the model's categories, e.g. "Animals & Nature" (default: the one the prompt's
                     words name, if they clearly name one; else any)
  --style NAME       one of the model's styles, e.g. google, openmoji (default: any; a wrong one lists them)
  --prompt TEXT      words of emoji names, e.g. "smiling cat"
  --bricks LIST      1-based bricks to run, e.g. 1,2 (default: all)
  --skip K:A-B       skip brick K over the fraction A–B of the steps (repeatable), e.g. 3:0.6-1.0
  --no-shift         never shift the region grid on larger canvases
  --seed N           noise seed (default 0)
  --batch N          images ${LIMITS.batch.join('–')} (default 1)
  --init-image FILE  start from this PNG, JPEG or SVG instead of noise: it is
                     composited on white and area-resized to the canvas, as the training images were
  --strength S       with --init-image: 0–1 or 0–100% (default 50%), the share of the steps that run
                     (0 returns the image, 1 redraws it from pure noise)
  --mask FILE        with --init-image: a PNG, JPEG or SVG of the canvas's size, white = redraw, black = keep
  --out FILE         PNG grid to write (default out.png)`;

class UsageError extends Error {}

function int(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  return n;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv, strict: true, options: {
      model: { type: 'string', default: 'public/models/lego-emoji-32' }, engine: { type: 'string', default: 'webgpu' },
      size: { type: 'string', default: '32x32' }, steps: { type: 'string', default: '18' },
      sampler: { type: 'string', default: 'heun' }, guidance: { type: 'string', default: '2' },
      category: { type: 'string' }, style: { type: 'string' }, prompt: { type: 'string' },
      bricks: { type: 'string' }, skip: { type: 'string', multiple: true }, 'no-shift': { type: 'boolean' },
      seed: { type: 'string', default: '0' }, batch: { type: 'string', default: '1' },
      out: { type: 'string', default: 'out.png' },
      'init-image': { type: 'string' }, strength: { type: 'string' }, mask: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const size = /^(\d+)x(\d+)$/.exec(values.size!);
  if (!size) throw new UsageError(`--size "${values.size}": expected WIDTHxHEIGHT, e.g. 64x32`);
  const guidance = Number(values.guidance);
  if (!Number.isFinite(guidance)) throw new UsageError(`--guidance must be a number, got "${values.guidance}"`);
  if (values.engine !== 'webgpu' && values.engine !== 'cpu') {
    throw new UsageError(`--engine "${values.engine}": expected webgpu or cpu`);
  }
  for (const flag of ['strength', 'mask'] as const) {
    if (values[flag] !== undefined && values['init-image'] === undefined) {
      throw new UsageError(`--${flag} needs --init-image (the image to start from)`);
    }
  }
  return { values, width: Number(size[1]), height: Number(size[2]), guidance, engine: values.engine };
}

/** --strength as 0–1 or a percentage ("60%"). */
function strength(v: string): number {
  const m = /^\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*(%?)\s*$/i.exec(v);
  const s = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(s >= 0 && s <= 1)) {
    throw new UsageError(`--strength "${v}" must be in 0–1 or 0–100% (0 returns the start image, 1 redraws it fully)`);
  }
  return s;
}

function brickSettings(n: number, list: string | undefined, skips: string[] = []): BrickSetting[] {
  const on = list ? list.split(',').map((s) => int('bricks', s.trim())) : Array.from({ length: n }, (_, i) => i + 1);
  const bad = on.filter((k) => k < 1 || k > n);
  if (bad.length || !on.length) throw new UsageError(`--bricks "${list}": bricks are numbered 1–${n}`);
  const settings: BrickSetting[] = Array.from({ length: n }, (_, i) => ({ enabled: on.includes(i + 1), skip: null }));
  for (const s of skips) {
    try {
      const { brick, window } = parseSkip(s, n);
      settings[brick].skip = window;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return settings;
}

/** A --category/--style value the model has no label for: a usage error listing those it has. */
function checkLabel(flag: string, value: string | undefined, known: string[], model: string): void {
  if (value != null && !known.includes(value)) {
    throw new UsageError(`--${flag} "${value}": model ${model} knows ${known.map((k) => `"${k}"`).join(', ')}`);
  }
}

function bar(done: number, total: number, width = 24): string {
  const n = Math.round((width * done) / total);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

async function main() {
  const { values: v, width, height, guidance, engine: kind } = parse(process.argv.slice(2));
  if (v.help) return console.log(HELP);
  const meta = parseModelJson(readFileSync(join(v.model!, 'model.json'), 'utf8'), join(v.model!, 'model.json'));
  checkLabel('category', v.category, meta.labels.categories, meta.name);
  checkLabel('style', v.style, meta.labels.styles, meta.name);
  const bricks = brickSettings(meta.architecture.bricks.length, v.bricks, v.skip);
  const opts: GenerateOptions = {
    width, height, steps: int('steps', v.steps!), sampler: v.sampler as GenerateOptions['sampler'], guidance,
    seed: int('seed', v.seed!), batch: int('batch', v.batch!), bricks, shiftTiling: !v['no-shift'],
    labels: { category: v.category ?? null, style: v.style ?? null, prompt: v.prompt ?? '' },
  };
  if (v['init-image'] !== undefined) {
    const s = strength(v.strength ?? '50%');
    const image = imageFromRgba(readStartImage(v['init-image'], width, height), width, height);
    opts.start = { image, strength: s, mask: v.mask !== undefined ? readMask(v.mask, width, height) : undefined };
  }
  // Every option is checked before the weights are read and a device or runtime is started.
  validateOptions(opts, meta.architecture);
  labelVector(meta.labels, opts.labels, meta.architecture.label_dim);
  const model = await loadModel(meta, new Uint8Array(readFileSync(join(v.model!, meta.weights.file))));
  let engine: Engine, where: string, close: () => void;
  if (kind === 'cpu') {
    engine = await createNodeCpuEngine(model);
    where = 'the CPU (onnxruntime-web wasm)';
    close = () => engine.destroy();
  } else {
    const ctx = await acquireNodeDevice({ label: 'cli' });
    engine = await LegoEngine.create(ctx, model);
    where = `${ctx.adapterName}${ctx.isFallback ? ' (software adapter: slow; --engine cpu is faster)' : ''}`;
    close = () => {
      engine.destroy();
      ctx.device.destroy();
    };
  }
  console.error(`${meta.name}: ${meta.param_count.toLocaleString()} params on ${where}`);
  const named = opts.labels.category ? null : promptCategory(meta.labels, opts.labels.prompt ?? '');
  if (named) console.error(`category ${named}: the one the prompt's words name (--category overrides it)`);
  if (opts.start) {
    const k = editSteps(opts.steps, opts.start.strength);
    console.error(`from ${v['init-image']} at strength ${+(100 * opts.start.strength).toFixed(1)}%: the last ${k} of ` +
      `${opts.steps} steps${opts.start.mask ? `, redrawing the ${v.mask} mask` : ''}`);
  }
  const res = await engine.generate({
    ...opts,
    onStep: (s) => process.stderr.write(
      `\r${bar(s.step, s.steps)} step ${s.step}/${s.steps}  σ ${s.sigma.toFixed(3).padStart(7)}  ` +
      `${s.ms.toFixed(0)} ms  bricks ${s.active.map((k) => k + 1).join(',')}   `),
  });
  process.stderr.write('\n');
  writeFileSync(v.out!, encodeGrid(res.images));
  const share = engine.brickCost(width, height);
  const measured = res.brickMs?.some((x) => x > 0);
  const perBrick = measured ? res.brickMs! : share.map((s) => s * res.totalMs);
  console.log(`wrote ${v.out} (${opts.batch} × ${width}×${height}) in ${(res.totalMs / 1000).toFixed(2)} s: ` +
    `${(res.totalMs / Math.max(res.stepMs.length, 1)).toFixed(1)} ms/step, ${res.evaluations} evaluations, ` +
    `${res.dispatches} ${kind === 'cpu' ? 'graph runs' : 'dispatches'}, ` +
    `${(engine.allocatedBytes / 2 ** 20).toFixed(1)} MiB ` +
    `${kind === 'cpu' ? 'of weights in the runtime' : 'GPU memory'}`);
  console.log(`per-brick time (${measured ? 'GPU timestamps' : 'estimated from FLOPs share of the total'}):`);
  meta.architecture.bricks.forEach((b, k) => console.log(
    `  brick ${k + 1} (region ${b.region}, patch ${b.patch}, depth ${b.depth}): ` +
    `${perBrick[k].toFixed(1)} ms, ${(100 * share[k]).toFixed(0)}% of the FLOPs`));
  close();
}

main().catch((e) => {
  console.error(e instanceof UsageError ? `error: ${e.message}\n\n${HELP}` : `error: ${(e as Error).message}`);
  process.exit(2);
});
