#!/usr/bin/env bash
# Times the WebGPU CLI (src/cli/generate.ts, --engine webgpu) on a borrowed GPU machine that has no
# Node.js and no internet, then the GPU time of every dispatch of one evaluation (bench/kernels.ts --ops:
# per op, per brick, ms per dispatch). It runs the bundle from .gpu/probe (Node, cli.mjs, kernels.mjs,
# webgpu + dawn.node) and the
# Vulkan/glvnd debs from .gl, both git-ignored: build them here first with `bash bench/gpu-probe-build.sh`
# (which lists what goes in them). Then, on the GPU machine, from the repo root (as root):
#   bash bench/gpu-probe.sh [MODEL_DIR]        # default public/models/lego-emoji-32
# Env: OUT=dir   write at most 2 PNGs there (32×32 batch 8, 64×64 batch 1); the rest goes to stdout.
#      PROBE_LOCAL=1   skip unpacking .gl into / (for testing here; set VK_ICD_FILENAMES to SwiftShader).
#      QUICK=1   only the warm-up, one short 32×32 run and the 32×32 dispatch table (SwiftShader is slow).
#      PROBE_SRC=dir (default .gpu/probe), PROBE_DIR=dir (where it is unpacked, default /tmp/gpu-probe).
# Each node run is capped at 120 s; any failure prints why and the exit status is non-zero.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-public/models/lego-emoji-32}
SRC=${PROBE_SRC:-$ROOT/.gpu/probe}
W=${PROBE_DIR:-/tmp/gpu-probe}
die() { echo "gpu-probe: FAILED: $*"; exit 1; }

[[ -f $MODEL/model.json ]] || die "no model at $MODEL (model.json missing)"
[[ -f $SRC/node.xz && -f $SRC/cli.mjs && -f $SRC/kernels.mjs && -f $SRC/node_modules/webgpu/dist/linux-x64/dawn.node.xz ]] ||
  die "bundle incomplete in $SRC: run bench/gpu-probe-build.sh where npm works"

# 1. Vulkan loader + glvnd into / (the NVIDIA ICD dlopens libGLX_nvidia, which needs libglvnd).
if [[ ${PROBE_LOCAL:-0} != 1 ]]; then
  ls "$ROOT"/.gl/*.deb >/dev/null 2>&1 || die "no .gl/*.deb in $ROOT"
  for f in "$ROOT"/.gl/*.deb; do dpkg -x "$f" / || die "dpkg -x $f"; done
  ldconfig
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [[ -d $d ]] && export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
done
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -f $ICD ]]; then
  export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
echo "vulkan ICD: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-loader default}};" \
  "ICD files present: $(ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep json | tr '\n' ' ')"
command -v nvidia-smi >/dev/null && timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# 2. Unpack Node and dawn.node beside a copy of the bundle (so `webgpu` resolves from $W/node_modules).
rm -rf "$W" && mkdir -p "$W" || die "cannot create $W"
cp -r "$SRC/cli.mjs" "$SRC/kernels.mjs" "$SRC/node_modules" "$W/" || die "copy $SRC to $W"
unxz_to() { # xz may be missing from the image; Python's lzma is the fallback
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
D=$W/node_modules/webgpu/dist/linux-x64
unxz_to "$SRC/node.xz" "$W/node" && chmod +x "$W/node" || die "unpack node"
unxz_to "$D/dawn.node.xz" "$D/dawn.node" && rm "$D/dawn.node.xz" || die "unpack dawn.node"
NODE=$W/node
v=$(timeout 20 "$NODE" --version) || die "the bundled node does not run ($(ldd "$NODE" 2>&1 | grep 'not found'))"
echo "node $v"
missing=$(ldd "$D/dawn.node" 2>&1 | grep 'not found') && die "dawn.node libraries missing: $missing"

# 3. The adapter Dawn picks, in full. Like src/gpu/node.ts, preload a Vulkan loader so Dawn's dlopen finds it
#    (here, without libvulkan1, only chromium's copy exists).
cat >"$W/adapter.mjs" <<'EOF'
for (const lib of ['libvulkan.so.1', '/usr/lib/chromium/libvulkan.so.1']) {
  try { process.dlopen({ exports: {} }, lib, 0x1102); break; } catch (e) { if (/self-register/.test(e.message)) break; }
}
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const gpu = create([]);
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.log('adapter: none'); process.exit(3); }
const i = a.info;
console.log('adapter:', JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device,
  description: i.description, fallback: i.isFallbackAdapter ?? a.isFallbackAdapter }));
console.log('features:', [...a.features].sort().join(' '));
console.log('limits: maxStorageBufferBindingSize', a.limits.maxStorageBufferBindingSize,
  'maxComputeWorkgroupStorageSize', a.limits.maxComputeWorkgroupStorageSize,
  'maxComputeInvocationsPerWorkgroup', a.limits.maxComputeInvocationsPerWorkgroup);
process.exit(0);
EOF
timeout -k 5 60 "$NODE" "$W/adapter.mjs" 2>&1 || die "no WebGPU adapter from Dawn (exit $?; see above)"

# 4. Timed generations. gen NAME PNG ARGS...: wall time around the whole process (start-up, model load,
#    pipelines), then the CLI's own lines (adapter, generation time, ms/step, per-brick GPU timestamps).
fails=0 npng=0
gen() {
  local name=$1 png=$2 t0 t1 rc
  shift 2
  local out=$W/$name.png
  if [[ -n ${OUT:-} && $png == 1 && $npng -lt 2 ]]; then mkdir -p "$OUT" && out=$OUT/$name.png && npng=$((npng + 1)); fi
  echo "--- $name: $*"
  t0=$(date +%s.%N)
  timeout -k 5 120 "$NODE" "$W/cli.mjs" --engine webgpu --model "$MODEL" --out "$out" "$@" >"$W/out.txt" 2>"$W/err.txt"
  rc=$?
  t1=$(date +%s.%N)
  # The progress bar redraws with \r: keep the last state only.
  tr '\r' '\n' <"$W/err.txt" | grep -v '^\[' | grep -v '^ *$'
  tr '\r' '\n' <"$W/err.txt" | grep '^\[' | tail -1
  cat "$W/out.txt"
  echo "wall $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (exit $rc)"
  if ((rc != 0)); then
    fails=$((fails + 1))
    echo "gpu-probe: FAILED: $name (exit $rc$( ((rc == 124 || rc == 137)) && echo ', timed out after 120 s'))"
  fi
  return $rc
}
gen warmup 0 --steps 2 --batch 1 || die "the warm-up generation failed; not trying the others"
if [[ ${QUICK:-0} == 1 ]]; then
  gen quick-32-b1 1 --size 32x32 --sampler heun --steps 4 --batch 1
else
  # every brick, then every brick but the top one (1,2 for lego-s; 1,2,3 for a model with a 64×64 brick)
  n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["architecture"]["bricks"]))' \
    "$MODEL/model.json") || die "cannot read the bricks of $MODEL/model.json"
  for bricks in all "$(seq -s, 1 $((n - 1)))"; do
    b=() tag=''
    [[ $bricks != all ]] && b=(--bricks "$bricks") tag=-no$n
    png=$([[ $bricks == all ]] && echo 1 || echo 0)
    gen "heun18-32-b1$tag" 0 --size 32x32 --sampler heun --steps 18 --batch 1 "${b[@]}"
    gen "heun18-32-b8$tag" "$png" --size 32x32 --sampler heun --steps 18 --batch 8 "${b[@]}"
    gen "heun18-64-b1$tag" "$png" --size 64x64 --sampler heun --steps 18 --batch 1 "${b[@]}"
  done
fi
# 5. GPU time of each dispatch of one guided evaluation (timestamps around each op in its own pass), per brick
#    and per dispatch: what fusing kernels bought and which kernel to tune next.
cases=32x32x1,32x32x8,64x64x1
[[ ${QUICK:-0} == 1 ]] && cases=32x32x1
echo "--- dispatch times: kernels.mjs --ops --cases $cases"
BENCH_ROUNDS=${BENCH_ROUNDS:-5} timeout -k 5 120 "$NODE" "$W/kernels.mjs" --ops --model "$MODEL" --cases "$cases" 2>&1
rc=$?
if ((rc != 0)); then fails=$((fails + 1)); echo "gpu-probe: FAILED: the dispatch table (exit $rc)"; fi
((fails == 0)) || die "$fails run(s) failed"
echo "gpu-probe: ok"
