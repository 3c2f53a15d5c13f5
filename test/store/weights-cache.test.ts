import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelFiles, removeCachedModel, storageInfo, weightsKey, type KeyValueStore } from '../../src/store/weights-cache';

const modelJson = readFileSync('test/fixtures/tiny/model.json', 'utf8');
const weights = new Uint8Array(readFileSync('test/fixtures/tiny/weights.safetensors'));
const sha = JSON.parse(modelJson).weights.sha256 as string;

class MapStore implements KeyValueStore {
  map = new Map<string, unknown>();
  failSet?: Error;
  failGet?: Error;
  async get(k: string) { if (this.failGet) throw this.failGet; return this.map.get(k); }
  async set(k: string, v: unknown) { if (this.failSet) throw this.failSet; this.map.set(k, v); }
  async del(k: string) { this.map.delete(k); }
  async keys() { return [...this.map.keys()]; }
}

/** A fake server for /m/: counts requests per file; `offline` makes every fetch fail. */
function server(opts: { offline?: boolean; body?: Uint8Array } = {}) {
  const hits: string[] = [];
  const fetchFn = (async (url: string) => {
    hits.push(url);
    if (opts.offline) throw new TypeError('Failed to fetch');
    if (!url.startsWith('/m/')) return new Response('nope', { status: 404, statusText: 'Not Found' });
    if (url.endsWith('model.json')) return new Response(modelJson);
    if (url.endsWith('weights.safetensors')) return new Response((opts.body ?? weights) as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(weights.byteLength) } });
    return new Response('nope', { status: 404, statusText: 'Not Found' });
  }) as typeof fetch;
  return { fetchFn, hits, weightHits: () => hits.filter((h) => h.endsWith('.safetensors')).length };
}

describe('weights cache', () => {
  it('downloads with progress, stores, then loads from the store without fetching the weights', async () => {
    const store = new MapStore(), s = server();
    const seen: number[] = [];
    const first = await loadModelFiles('/m', { store, fetchFn: s.fetchFn, onProgress: (l) => seen.push(l) });
    expect(first.from).toBe('network');
    expect(seen.at(-1)).toBe(weights.byteLength);
    expect(store.map.has(weightsKey('tiny', sha))).toBe(true);
    const second = await loadModelFiles('/m/', { store, fetchFn: s.fetchFn });
    expect(second.from).toBe('cache');
    expect(second.notes).toEqual([]);
    expect(s.weightHits()).toBe(1);
    expect(second.weights).toEqual(weights);
  });

  it('opens offline from the stored model.json and weights', async () => {
    const store = new MapStore();
    await loadModelFiles('/m/', { store, fetchFn: server().fetchFn });
    const off = await loadModelFiles('/m/', { store, fetchFn: server({ offline: true }).fetchFn });
    expect(off.from).toBe('cache');
    expect(off.notes.join()).toMatch(/Offline/);
  });

  it('evicts a corrupt entry and downloads again', async () => {
    const store = new MapStore(), s = server();
    await loadModelFiles('/m/', { store, fetchFn: s.fetchFn });
    const entry = store.map.get(weightsKey('tiny', sha)) as { bytes: Uint8Array };
    entry.bytes = entry.bytes.slice();
    entry.bytes[100] ^= 0xff;
    const again = await loadModelFiles('/m/', { store, fetchFn: s.fetchFn });
    expect(again.from).toBe('network');
    expect(again.notes.join()).toMatch(/corrupt/);
    expect(s.weightHits()).toBe(2);
    expect((store.map.get(weightsKey('tiny', sha)) as { bytes: Uint8Array }).bytes).toEqual(weights);
  });

  it('runs from memory when the store is full or broken', async () => {
    const full = new MapStore();
    full.failSet = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const a = await loadModelFiles('/m/', { store: full, fetchFn: server().fetchFn });
    expect(a.weights).toEqual(weights);
    expect(a.notes.join()).toMatch(/quota is full.*runs from memory/);
    const broken = new MapStore();
    broken.failGet = new Error('IndexedDB is disabled');
    const b = await loadModelFiles('/m/', { store: broken, fetchFn: server().fetchFn });
    expect(b.from).toBe('network');
    expect(b.notes.join()).toMatch(/IndexedDB\) is unavailable/);
  });

  it('rejects a corrupt download and a missing model with a clear message', async () => {
    const bad = weights.slice();
    bad[10] ^= 1;
    await expect(loadModelFiles('/m/', { store: new MapStore(), fetchFn: server({ body: bad }).fetchFn })).rejects.toThrow(/corrupt or truncated/);
    await expect(loadModelFiles('/missing/', { store: new MapStore(), fetchFn: server().fetchFn })).rejects.toThrow(/No model at \/missing\//);
  });

  it('lists and removes cached models, keeping one version per name', async () => {
    const store = new MapStore();
    store.map.set('weights/tiny/oldhash', { bytes: new Uint8Array(1) });
    await loadModelFiles('/m/', { store, fetchFn: server().fetchFn });
    expect((await storageInfo(store)).models).toEqual([{ name: 'tiny', sha256: sha }]);
    expect(await removeCachedModel('tiny', store)).toBe(1);
    expect((await storageInfo(store)).models).toEqual([]);
  });
});
