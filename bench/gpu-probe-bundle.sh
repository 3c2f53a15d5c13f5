#!/usr/bin/env bash
# Bundles the CLI (src/cli/generate.ts → OUT/cli.mjs) and the kernel bench (bench/kernels.ts → OUT/kernels.mjs)
# for a GPU machine with Node but no node_modules (bench/gpu-probe-build.sh carries them). esbuild drops the
# `?raw` suffix when resolving, and --loader makes .wgsl a text import; the banner gives bundled CommonJS
# (pngjs, jpeg-js) a `require`. `webgpu` and `onnxruntime-web` stay external (carried, or --engine cpu is
# unavailable), and resvg is loaded only for SVG start images (src/cli/image.ts). test/bench/probe-bundle.test.ts
# runs the bundle from a folder holding only `webgpu`.
# Usage: bash bench/gpu-probe-bundle.sh OUT_DIR
set -euo pipefail
out=$(mkdir -p "${1:?usage: bash bench/gpu-probe-bundle.sh OUT_DIR}" && cd "$1" && pwd)
cd "$(dirname "$0")/.."
for entry in src/cli/generate.ts:cli bench/kernels.ts:kernels; do
  node_modules/.bin/esbuild "${entry%%:*}" --bundle --platform=node --format=esm --target=node20 \
    --loader:.wgsl=text --external:webgpu --external:onnxruntime-web --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$out/${entry##*:}.mjs"
done
