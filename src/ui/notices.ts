// Every failure as a message a person understands: what happened and what to do about it.
import { DeviceLostError, NoAdapterError, NoWebGPUError } from '../gpu/device.ts';
import { ModelLoadError } from '../model/errors.ts';
import { UnknownWordError } from '../model/labels.ts';
import type { UrlProblem } from './settings.ts';

export interface Notice {
  id: string; // one notice per id: a newer one replaces it
  level: 'error' | 'warning' | 'info';
  title: string;
  text: string;
  steps?: string[]; // what to do, in order
}

/** What to do to get WebGPU in this browser (from its user-agent string). */
export function webgpuHelp(ua: string, secure: boolean): string[] {
  const steps: string[] = [];
  if (!secure) {
    steps.push('Open this page over https:// (or from localhost): browsers only offer WebGPU to secure pages.');
  }
  if (/Firefox\//.test(ua)) {
    steps.push('Firefox: update to Firefox 141 or newer on Windows (145+ on macOS), ' +
      'or in about:config set dom.webgpu.enabled to true; Firefox Nightly has it on every platform.');
  } else if (/Edg\//.test(ua) || /Chrome\//.test(ua)) {
    steps.push('Chrome / Edge: update to version 113 or newer.');
    if (/Linux|X11|CrOS/.test(ua) && !/Android/.test(ua)) {
      steps.push('On Linux, enable chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan, ' +
        'then restart the browser.');
    }
    steps.push('Check chrome://gpu: "WebGPU: Hardware accelerated" should be listed; ' +
      'a blocklisted GPU or disabled hardware acceleration (Settings → System) turns it off.');
  } else if (/Safari\//.test(ua)) {
    steps.push('Safari: update to Safari 26 (macOS Tahoe / iOS 26) or newer; ' +
      'on Safari 17–18 enable WebGPU under Develop → Feature Flags.');
  } else {
    steps.push('Use a recent Chrome, Edge or Safari, or Firefox with WebGPU enabled.');
  }
  return steps;
}

const env = () => ({
  ua: typeof navigator !== 'undefined' ? navigator.userAgent : '',
  secure: typeof isSecureContext === 'undefined' ? true : isSecureContext,
});

/** Turns any error into a notice. */
export function describeError(e: unknown): Notice {
  if (e instanceof NoWebGPUError) {
    return {
      id: 'gpu', level: 'error', title: 'This browser has no WebGPU',
      text: 'The image generator runs on your GPU through WebGPU, which this browser does not offer.',
      steps: webgpuHelp(env().ua, env().secure),
    };
  }
  if (e instanceof NoAdapterError) {
    return {
      id: 'gpu', level: 'error', title: 'No GPU available to WebGPU', text: e.message,
      steps: webgpuHelp(env().ua, env().secure),
    };
  }
  if (e instanceof DeviceLostError) {
    return {
      id: 'lost', level: 'warning', title: 'The GPU was reset', text: `${e.message}. Starting a new GPU device…`,
    };
  }
  if (e instanceof ModelLoadError) {
    return { id: 'model', level: 'error', title: 'The model could not be loaded', text: e.message };
  }
  if (e instanceof UnknownWordError) {
    return {
      id: 'prompt', level: 'error', title: 'Some words of the prompt are unknown',
      text: `${e.message}. Remove or replace them.`,
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { id: 'error', level: 'error', title: 'Something went wrong', text: `${err.name}: ${err.message}` };
}

/** WebGPU offers only a software adapter: what the page did about it (the CPU engine), or that it did not. */
export const fallbackAdapterNotice = (name: string, usingCpu: boolean): Notice => usingCpu ? {
  id: 'slow', level: 'info', title: 'Software GPU: running the CPU engine instead',
  text: `WebGPU only offers ${name}, a software adapter that emulates a GPU on the CPU and is slow. ` +
    'The page runs the CPU engine instead (WebAssembly, many times faster than the emulated GPU). ' +
    'Enable hardware acceleration in the browser, or use a machine with a GPU, for full speed; ' +
    'choose "WebGPU" under Engine to compare.',
} : {
  id: 'slow', level: 'warning', title: 'Running on a software GPU',
  text: `WebGPU is using ${name}, a software adapter that runs on the CPU: generation works but is slow. ` +
    'Choose "CPU" under Engine for the CPU engine (many times faster than the emulated GPU), ' +
    'enable hardware acceleration in the browser, or use a machine with a GPU.',
};

/** WebGPU is missing or has no adapter: the page runs the CPU engine. */
export const noWebgpuNotice = (why: string): Notice => ({
  id: 'engine', level: 'info', title: 'No WebGPU: running the CPU engine',
  text: `${why}, so the page generates with the CPU engine (WebAssembly): ` +
    'a few seconds per image instead of a fraction of one. ' +
    'For GPU speed, use a browser with WebGPU on a machine with a GPU.',
});

/** A link parameter the page did not use as given (the value cut short: a link can carry megabytes). */
export function urlNotice(p: UrlProblem): Notice {
  const value = p.value.length > 60 ? `${p.value.slice(0, 60)}… (${p.value.length} characters)` : p.value;
  return { id: `url-${p.key}`, level: 'warning', title: `Link setting "${p.key}" not used`,
    text: `${p.key}=${value} ${p.why}. ${p.action}` };
}
