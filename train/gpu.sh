#!/usr/bin/env bash
# One GPU window in one command: measure the trainer's throughput, then go on training the best model
# until a deadline, exporting as it goes (a lent machine can be cut off without warning).
#
#   OUT=$OUT DATA=.gpu/data bash train/gpu.sh     # the device call, its carry and timeout: docs/training.md
#
# MINUTES (default 8.5) counts from this script's start; one device call runs at most 10 minutes.
#  1. Throughput (~1 min): MEASURE_STEPS (20) timed and 20 profiled steps of the old path (eager, batches
#     built on the host, SDPA for every region) and of the new one uncompiled (data on the GPU, short
#     regions by matmul), each in a process of its own → profile.txt (images/s, MFU, torch.profiler tables).
#  2. Training until the deadline: PRESET (lego-s14) from INIT (the shipped lego-s, grown into it by
#     train/grow.py; INIT= trains from scratch, a lego-s14 export goes on as it is), compiled per brick
#     (COMPILE=0: eager; a failed compiled run goes on eagerly) and profiled again after its warm-up;
#     learning rate LR (5e-4) flat after WARMUP (200) steps of the fresh optimiser, EMA 0.9995,
#     images-seen carried in model.json; COOLDOWN=0.15 (lr → 0 over the last 15%) only for a ship.
# What comes back, $OUT, 8 files of ≤ 16 MiB: train.out, log.jsonl, profile.txt, samples.png (the last
# grid), compile-cache.bin (carry it next time as COMPILE_CACHE, default .gpu/compile-cache.bin), and the
# export <NAME>/model.json + weights.safetensors.00, .01 (fp16 in PART_MIB = 15 MiB parts; join them with
# `npm run export -- --join <dir>`). No checkpoint comes back: the next window starts from the export.
# CONTINUE=1 (a second call that finds the machine warm, within 30 s) skips the measurement and resumes the
# checkpoint the first call left in RUNS.
# MODE=64 (whole emoji at 64×64, docs/training.md "64×64"): PRESET lego-s64, the shipped lego-s with a brick of
# 64×64 regions added on top, trained on the 64×64 renders (DATA=.gpu/data64, `npm run dataset -- --copy-64`),
# the bricks below and the conditioning frozen (LOWER_LR=0; a factor > 0 trains them at that × LR), no rolled
# tiling (ROLL=0: sampling never rolls them at 64×64); exported as NAME lego-emoji-64. Its measurement compares
# training with the lower bricks frozen and training every brick; the compile cache default is
# .gpu/compile-cache-64.bin.
# Tried here by train/tests/test_gpu_window.py: DEVICE=cpu PRESET=tiny-deep INIT=<tiny export> COMPILE=0 …, and
# MODE=64 PRESET=tiny-64 ….
set -u
mode=${MODE:-32}
if [ "$mode" = 64 ]; then
  defaults=(lego-s64 lego-emoji-64 .gpu/compile-cache-64.bin)
  canvas=(--canvas 64 --lower-lr "${LOWER_LR:-0}" --roll "${ROLL:-0}")
else
  defaults=(lego-s14 lego-emoji-32 .gpu/compile-cache.bin)
  canvas=()
fi
out=${OUT:?set OUT to the folder that receives the results}
minutes=${MINUTES:-8.5}
data=${DATA:-data}
device=${DEVICE:-cuda}
batch=${BATCH:-512}
preset=${PRESET:-${defaults[0]}}
name=${NAME:-${defaults[1]}}
init=${INIT-public/models/lego-emoji-32}
compile=${COMPILE:-1}
cache=${COMPILE_CACHE:-${defaults[2]}}
python=${PYTHON:-python3}
poll=${POLL:-15}
scratch=${RUNS:-/tmp/lego-gpu-runs}  # only what $OUT receives comes back
run=$scratch/$name
t0=$(date +%s)
export PYTHONUNBUFFERED=1
continue=${CONTINUE:-0}
[ "$continue" = 1 ] || rm -rf "$scratch"
mkdir -p "$out" "$run"
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
  "$python" -c 'import torch; print("torch", torch.__version__)'; } | tee "$out/train.out"

# the settings every process shares; ${TRAIN_ARGS} adds to them (e.g. --max-images in the CPU test)
common=(--preset "$preset" --data "$data" --device "$device" --batch "$batch" --threads 8
        --lr "${LR:-5e-4}" --warmup "${WARMUP:-200}" --ema 0.9995 ${init:+--init "$init"}
        --profile-steps "${MEASURE_STEPS:-20}" --profile-after "${PROFILE_AFTER:-10}" --profile-out "$out/profile.txt"
        ${canvas[@]+"${canvas[@]}"})

measure() {  # label, then the flags of the path measured
  local label=$1; shift
  "$python" -m train.train --name measure --runs "$scratch/measure" "${common[@]}" --log-every 1000000 \
    --profile-only --profile-label "$label" "$@" >>"$out/train.out" 2>&1 ||
    echo "measurement '$label' failed (rc $?): training goes on" | tee -a "$out/train.out"
  rm -rf "$scratch/measure"
}
if [ "$continue" != 1 ] && [ "$mode" = 64 ]; then
  measure "64×64, not compiled, the bricks below frozen (--lower-lr 0)" --lower-lr 0
  measure "64×64, not compiled, every brick training (--lower-lr 1)" --lower-lr 1
elif [ "$continue" != 1 ]; then
  measure "old path: eager, batches built on the host, SDPA for every region" --data-device cpu --short-attention 0
  measure "new path, not compiled: data on the device, regions of ≤ 16 tokens by matmul"
fi

minutes_left() { "$python" -c "import time; print(round(max(0.1, ($t0 + 60 * $minutes - time.time()) / 60), 2))"; }

exported=0  # the checkpoint's mtime at the last export
export_latest() {  # the newest checkpoint's EMA, if not exported yet, and the log and last sample grid
  local t
  t=$(stat -c %Y "$run/ckpt.pt" 2>/dev/null || echo 0)
  [ "$t" = "$exported" ] && return
  exported=$t
  rm -rf "$scratch/export"
  if "$python" -m train.export --run "$run" --out "$scratch/export" --dtype F16 --part-mib "${PART_MIB:-15}" \
       >>"$out/train.out" 2>&1; then
    mkdir -p "$out/$name" && rm -f "$out/$name"/* && cp "$scratch/export"/* "$out/$name/"
  fi
  cp "$run/log.jsonl" "$out/" 2>/dev/null
  ls "$run"/samples_*.png >/dev/null 2>&1 && cp "$(ls "$run"/samples_*.png | tail -1)" "$out/samples.png"
}

train() {  # --compile or nothing; resumes the checkpoint of a run that stopped
  # shellcheck disable=SC2086  # TRAIN_ARGS: extra words for train.py
  "$python" -m train.train --name "$name" --runs "$scratch" "${common[@]}" "$@" --log-every 100 \
    --max-minutes "$(minutes_left)" --ckpt-minutes 1.5 --sample-minutes 3 --cooldown "${COOLDOWN:-0}" \
    ${TRAIN_ARGS:-} >>"$out/train.out" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$poll"
    export_latest
  done
  wait "$pid"
}

if [ "$compile" = 1 ]; then
  train --compile --compile-cache "$cache" --compile-cache-out "$out/compile-cache.bin"
  rc=$?
  if [ $rc != 0 ] && [ "$(minutes_left | cut -d. -f1)" -ge 1 ]; then
    echo "the compiled run failed (rc $rc): going on eagerly" | tee -a "$out/train.out"
    train; rc=$?
  fi
else
  train; rc=$?
fi
export_latest
tail -3 "$out/train.out"
exit $rc
