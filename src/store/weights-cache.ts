// Offline weights: model.json and weights.safetensors, downloaded once with byte progress, checked
// against model.json's SHA-256 and kept in IndexedDB (idb-keyval) keyed by model name and hash.
// Every storage failure degrades to running from memory with a note; nothing here is fatal except
// a model that cannot be had at all (ModelLoadError).
import { del, entries, get, set } from 'idb-keyval';
import { ModelLoadError } from '../model/errors.ts';
import type { ModelJson } from '../model/format.ts';
import { fetchBytes, parseModelJson, sha256Hex, type Progress } from '../model/load.ts';

/** The few key-value operations the cache needs (idb-keyval by default; a Map in tests). */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

export const idbStore: KeyValueStore = {
  get: (k) => get(k),
  set: (k, v) => set(k, v),
  del: (k) => del(k),
  keys: async () => (await entries()).map(([k]) => String(k)),
};

interface WeightsEntry {
  name: string;
  sha256: string;
  bytes: Uint8Array;
  storedAt: number;
}

export const weightsKey = (name: string, sha256: string) => `weights/${name}/${sha256}`;
const metaKey = (baseUrl: string) => `model-json/${baseUrl}`;

export interface ModelFiles {
  meta: ModelJson;
  weights: Uint8Array;
  /** Where the weights came from this time. */
  from: 'cache' | 'network';
  /** Things a person should know (corrupt cache replaced, storage unavailable, offline…). */
  notes: string[];
}

export interface LoadOptions {
  onProgress?: Progress;
  store?: KeyValueStore;
  fetchFn?: typeof fetch;
}

const reason = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** model.json from the network, or the copy kept from the last visit when the network fails. */
async function loadMeta(base: string, store: KeyValueStore, notes: string[],
  fetchFn?: typeof fetch): Promise<ModelJson> {
  const url = `${base}model.json`;
  let text: string;
  try {
    text = new TextDecoder().decode(await fetchBytes(url, undefined, fetchFn));
    // A server with an SPA fallback answers a missing file with the page itself.
    if (text.trimStart().startsWith('<')) {
      throw new ModelLoadError(`could not download ${url}: HTTP 404 (got an HTML page)`);
    }
  } catch (netErr) {
    const kept = await store.get(metaKey(base)).catch(() => undefined);
    if (typeof kept !== 'string') {
      const http = /HTTP 404/.test(reason(netErr));
      throw new ModelLoadError(http
        ? `No model at ${base} (model.json is missing). If the model is still being trained, come back when it is ` +
          'published, or pick another with ?model=/models/<name>/.'
        : `Could not load ${url}: ${(netErr as Error).message}`);
    }
    notes.push('Offline: using the model description saved on your last visit.');
    return parseModelJson(kept, `${url} (saved copy)`);
  }
  const meta = parseModelJson(text, url);
  await store.set(metaKey(base), text).catch(() => undefined); // best effort; weights report failures
  return meta;
}

/** Cached weights whose hash matches model.json; a corrupt entry is evicted and reported. */
async function cachedWeights(meta: ModelJson, store: KeyValueStore, notes: string[]): Promise<Uint8Array | undefined> {
  const key = weightsKey(meta.name, meta.weights.sha256);
  let entry: WeightsEntry | undefined;
  try {
    entry = (await store.get(key)) as WeightsEntry | undefined;
  } catch (e) {
    notes.push(`Browser storage (IndexedDB) is unavailable (${reason(e)}): ` +
      'the model is downloaded and kept in memory only.');
    return undefined;
  }
  if (!entry) return undefined;
  const bytes = entry.bytes instanceof Uint8Array ? entry.bytes : undefined;
  if (bytes && (await sha256Hex(bytes)) === meta.weights.sha256) return bytes;
  await store.del(key).catch(() => undefined);
  notes.push('The saved copy of the model was corrupt (its SHA-256 did not match); ' +
    'it was removed and the model downloaded again.');
  return undefined;
}

/** Keep only this version of the model: drop other hashes of the same name, then store. */
async function saveWeights(meta: ModelJson, bytes: Uint8Array, store: KeyValueStore, notes: string[]): Promise<void> {
  try {
    const prefix = `weights/${meta.name}/`;
    for (const k of await store.keys()) if (k.startsWith(prefix)) await store.del(k);
    const entry: WeightsEntry = { name: meta.name, sha256: meta.weights.sha256, bytes, storedAt: Date.now() };
    await store.set(weightsKey(meta.name, meta.weights.sha256), entry);
    await globalThis.navigator?.storage?.persist?.().catch(() => false);
  } catch (e) {
    const quota = /quota/i.test(reason(e));
    const why = quota ? 'the browser\'s storage quota is full' : reason(e);
    notes.push(`Could not save the model for offline use (${why}): ` +
      'it runs from memory now and will be downloaded again on your next visit.');
  }
}

/** model.json and verified weights: from IndexedDB when a good copy is there, else downloaded and stored. */
export async function loadModelFiles(baseUrl: string, opts: LoadOptions = {}): Promise<ModelFiles> {
  const store = opts.store ?? idbStore;
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const notes: string[] = [];
  const meta = await loadMeta(base, store, notes, opts.fetchFn);
  const cached = await cachedWeights(meta, store, notes);
  if (cached) {
    opts.onProgress?.(cached.byteLength, cached.byteLength);
    return { meta, weights: cached, from: 'cache', notes };
  }
  const weights = await fetchBytes(`${base}${meta.weights.file}`, opts.onProgress, opts.fetchFn);
  const sha = await sha256Hex(weights);
  if (sha !== meta.weights.sha256) {
    throw new ModelLoadError(`${base}${meta.weights.file} arrived corrupt or truncated ` +
      `(SHA-256 ${sha.slice(0, 12)}…, expected ${meta.weights.sha256.slice(0, 12)}…). Reload to try again.`);
  }
  await saveWeights(meta, weights, store, notes);
  return { meta, weights, from: 'network', notes };
}

export interface StorageInfo {
  usage?: number; // bytes this origin uses (navigator.storage.estimate)
  quota?: number;
  models: { name: string; sha256: string }[]; // cached weights
}

export async function storageInfo(store: KeyValueStore = idbStore): Promise<StorageInfo> {
  const est = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  const keys = await store.keys().catch(() => [] as string[]);
  const models = keys.filter((k) => k.startsWith('weights/')).map((k) => {
    const [, name, sha256] = k.split('/');
    return { name, sha256 };
  });
  return { usage: est?.usage, quota: est?.quota, models };
}

/** Removes every cached version of the named model's weights. */
export async function removeCachedModel(name: string, store: KeyValueStore = idbStore): Promise<number> {
  const keys = (await store.keys()).filter((k) => k.startsWith(`weights/${name}/`));
  for (const k of keys) await store.del(k);
  return keys.length;
}
