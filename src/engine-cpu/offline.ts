// The CPU engine's files in the built app (its worker, onnxruntime-web and its wasm): left out of
// the service worker's precache, so a person with a GPU never downloads them, and kept in this
// cache once the engine runs (the service worker serves them from it, cache first).
//
// Two writers fill this cache: the service worker stores the requests it sees, and the page stores
// a copy of every file the engine loaded. On a first visit the service worker may take control only
// after the engine's worker has loaded its files, so the page's copy is the only one; and a copy in
// flight dies with the page. The engine therefore counts as started only once the page's copy is
// stored (CpuWorkerEngine.create): a reload right after the first run finds every file.
export const CPU_ENGINE_CACHE = 'cpu-engine';
export const CPU_ENGINE_FILES = /\/assets\/(worker|ort)[^/]*\.(js|mjs|wasm)$/;
/** What the engine needs offline: its worker script, onnxruntime-web and onnxruntime-web's wasm. */
export const CPU_ENGINE_PARTS = [/\/assets\/worker[^/]*\.js$/, /\/assets\/ort[^/]*\.m?js$/, /\/assets\/ort[^/]*\.wasm$/];

/** The engine's files this context has loaded (a worker's performance entries). */
export function loadedEngineFiles(): string[] {
  return performance.getEntriesByType('resource').map((e) => e.name)
    .filter((u) => CPU_ENGINE_FILES.test(new URL(u).pathname));
}

/** Stores the engine's files (just loaded: from the HTTP cache) where the service worker looks for them;
 * true once every part is stored, false where the page has no Cache API (not a secure context). */
export async function keepForOffline(urls: string[]): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  const cache = await caches.open(CPU_ENGINE_CACHE);
  const files = [...new Set(urls)].filter((u) => CPU_ENGINE_FILES.test(new URL(u).pathname));
  await Promise.all(files.map(async (u) => {
    if (!(await cache.match(u, { ignoreVary: true }))) await cache.add(u);
  }));
  return CPU_ENGINE_PARTS.every((part) => files.some((u) => part.test(new URL(u).pathname)));
}
