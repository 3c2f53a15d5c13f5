// Node-only: WebGPU through Dawn (the npm `webgpu` package) on the SwiftShader Vulkan driver that
// Debian's `chromium` ships. Never imported by browser code.
import { existsSync } from 'node:fs';
import { acquireDevice, NoAdapterError, type AcquireOptions, type GpuContext } from './device.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const VULKAN_LOADERS = ['libvulkan.so.1', '/usr/lib/chromium/libvulkan.so.1'];
const RTLD_NOW = 2, RTLD_GLOBAL = 0x100, RTLD_NODELETE = 0x1000; // glibc values

/**
 * Dawn dlopens `libvulkan.so.1`. Debian's chromium ships that loader in /usr/lib/chromium, outside
 * the library path, and the system one (package libvulkan1) may be missing. Loading it once with
 * RTLD_NODELETE keeps it resident, so Dawn's later dlopen finds it by soname.
 */
function preloadVulkanLoader(): void {
  if (process.platform !== 'linux') return;
  for (const lib of VULKAN_LOADERS) {
    if (lib.startsWith('/') && !existsSync(lib)) continue;
    try {
      process.dlopen({ exports: {} }, lib, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
      return;
    } catch (e) {
      // Not a Node addon: "did not self-register" means the library did load (and stays loaded).
      if (String((e as Error).message).includes('self-register')) return;
    }
  }
}

/** Sets up Vulkan → SwiftShader (unless VK_ICD_FILENAMES is already set) and returns a GPU object. */
export async function createNodeGpu(dawnOptions: string[] = []): Promise<GPU> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  preloadVulkanLoader();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, GPUShaderStage, …
  return create(dawnOptions);
}

/** A device from Dawn (createNodeGpu); no adapter fails with NO_ADAPTER_HELP, which says what to install. */
export async function acquireNodeDevice(opts: Omit<AcquireOptions, 'gpu'> = {}): Promise<GpuContext> {
  try {
    return await acquireDevice({ ...opts, gpu: await createNodeGpu() });
  } catch (e) {
    if (e instanceof NoAdapterError) throw new NoAdapterError(`${NO_ADAPTER_HELP} (${e.message})`);
    throw e;
  }
}

export const NO_ADAPTER_HELP =
  'No WebGPU adapter in Node. Install Debian\'s `chromium` package (it ships the SwiftShader ' +
  `Vulkan driver at ${SWIFTSHADER_ICD}): \`sudo apt-get install -y chromium\`, or point ` +
  'VK_ICD_FILENAMES at another Vulkan driver.';
