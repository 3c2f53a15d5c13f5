// Vitest setup: point Vulkan at SwiftShader (unless the caller chose a driver) before Dawn loads.
import { SWIFTSHADER_ICD } from '../src/gpu/node';

process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
