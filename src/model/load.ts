// Model loading: model.json + weights.safetensors from bytes or a URL, SHA-256 and every tensor
// checked against the architecture. Errors are ModelLoadError naming the file or tensor.
import { ModelLoadError } from './errors.ts';
import { expectedTensors, type ModelJson } from './format.ts';
import { parseSafetensors } from './safetensors.ts';
import { validateModelJson } from './validate.ts';

export interface LoadedModel {
  meta: ModelJson;
  tensors: Map<string, Float32Array>; // f32, whatever the file's dtype
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function parseModelJson(text: string, what = 'model.json'): ModelJson {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(`${what} is not valid JSON (${(e as Error).message})`);
  }
  return validateModelJson(m, what);
}

/** Check the weights' hash, then every tensor's name, shape and dtype against the architecture. */
export async function loadModel(meta: ModelJson, weights: Uint8Array): Promise<LoadedModel> {
  const sha = await sha256Hex(weights);
  if (sha !== meta.weights.sha256) {
    throw new ModelLoadError(`${meta.weights.file}: SHA-256 is ${sha.slice(0, 12)}…, model.json expects ` +
      `${meta.weights.sha256.slice(0, 12)}… (corrupt or truncated download)`);
  }
  const raw = parseSafetensors(weights, meta.weights.file);
  const tensors = new Map<string, Float32Array>();
  for (const [name, shape] of expectedTensors(meta.architecture)) {
    const t = raw.get(name);
    if (!t) throw new ModelLoadError(`${meta.weights.file}: tensor ${name} [${shape}] is missing`);
    const where = `${meta.weights.file}: tensor ${name}`;
    if (t.shape.join() !== shape.join()) {
      throw new ModelLoadError(`${where} has shape [${t.shape}], the architecture needs [${shape}]`);
    }
    if (t.dtype !== meta.dtype) throw new ModelLoadError(`${where} is ${t.dtype}, model.json says ${meta.dtype}`);
    tensors.set(name, t.data);
  }
  const extra = [...raw.keys()].filter((n) => !tensors.has(n));
  if (extra.length) {
    const names = `${extra.slice(0, 3).join(', ')}${extra.length > 3 ? '…' : ''}`;
    throw new ModelLoadError(`${meta.weights.file}: unexpected tensors ${names} ` +
      '(does model.json match these weights?)');
  }
  return { meta, tensors };
}

export type Progress = (loaded: number, total: number) => void;

/** Fetch a response body with byte progress. */
export async function fetchBytes(url: string, onProgress?: Progress,
  fetchFn: typeof fetch = fetch): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new ModelLoadError(`could not download ${url}: ${(e as Error).message} (offline?)`);
  }
  if (!res.ok) throw new ModelLoadError(`could not download ${url}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total || loaded);
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** model.json and its weights from a folder URL ("/models/lego-emoji-32/"). */
export async function fetchModel(baseUrl: string,
  onProgress?: Progress): Promise<{ meta: ModelJson; weights: Uint8Array }> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const meta = parseModelJson(new TextDecoder().decode(await fetchBytes(`${base}model.json`)), `${base}model.json`);
  const weights = await fetchBytes(`${base}${meta.weights.file}`, onProgress);
  return { meta, weights };
}
