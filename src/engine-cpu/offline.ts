// The CPU engine's files in the built app (its worker, onnxruntime-web and its wasm): left out of
// the service worker's precache, so a person with a GPU never downloads them, and kept in this
// cache once the engine runs (the service worker serves them from it, cache first).
export const CPU_ENGINE_CACHE = 'cpu-engine';
export const CPU_ENGINE_FILES = /\/assets\/(worker|ort)[^/]*\.(js|mjs|wasm)$/;

/** The engine's files this context has loaded (a worker's performance entries). */
export function loadedEngineFiles(): string[] {
  return performance.getEntriesByType('resource').map((e) => e.name)
    .filter((u) => CPU_ENGINE_FILES.test(new URL(u).pathname));
}

/** Stores the engine's files (just loaded: from the HTTP cache) where the service worker looks for them;
 * false where the page has no Cache API (not a secure context). */
export async function keepForOffline(urls: string[]): Promise<boolean> {
  if (typeof caches === 'undefined') return false;
  const cache = await caches.open(CPU_ENGINE_CACHE);
  await Promise.all(urls.filter((u) => CPU_ENGINE_FILES.test(new URL(u).pathname)).map(async (u) => {
    if (!(await cache.match(u, { ignoreVary: true }))) await cache.add(u);
  }));
  return true;
}
