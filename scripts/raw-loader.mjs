// Node module hook: `import src from './file.wgsl?raw'` yields the file's text, as Vite does.
// Used by the Node scripts: `tsx --import ./scripts/raw-loader.mjs script.ts`.
import { register } from 'node:module';

register('./raw-hooks.mjs', import.meta.url);
