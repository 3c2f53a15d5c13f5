#!/usr/bin/env bash
# Train a LEGO stack for a fixed time on one GPU, exporting as it goes, so that a machine lent for
# minutes (and cut off without warning) still leaves the newest weights in $OUT.
#
#   OUT=out MINUTES=8.5 bash train/gpu.sh     # needs data/ (npm run dataset) next to the repo
#
# One device call runs at most 10 minutes, so 8.5 minutes of training leaves room to start and export.
# What travels is capped at 64 MiB: carry a 32×32-only copy of the data (10 MB instead of 35), made
# with `npm run dataset -- --copy-32 .gpu/data`, and run with DATA=.gpu/data (carry: [".gpu/data"]).
#
# PRESET (default lego-s, the stack the ablations chose: docs/eval/ablations.md) trains from
# scratch; INIT=public/models/<name> continues from exported weights of the same preset instead.
# No checkpoint travels. $OUT receives train.out, log.jsonl, the export (<NAME>/model.json +
# weights.safetensors), the last sample grid and the fp16 EMA snapshots: 8 files at most, which is
# all that comes back from one call, so snapshots are taken every SNAPSHOT_MINUTES (default 2.5).
# Copy the export to public/models/ and log.jsonl to runs/<NAME>/ (then `npm run eval -- progress` scores the snapshots).
# DEVICE=cpu BATCH=16 MINUTES=0.5 tries it out here (with /usr/bin/python3 first on PATH).
set -u
out=${OUT:?set OUT to the folder that receives the results}
minutes=${MINUTES:-8.5}
snapshot=${SNAPSHOT_MINUTES:-2.5}
data=${DATA:-data}
device=${DEVICE:-cuda}
batch=${BATCH:-512}
preset=${PRESET:-lego-s}
name=${NAME:-lego-emoji-32}
init=${INIT:+--init $INIT}
runs=${RUNS:-/tmp/lego-gpu-runs}  # scratch: only what $OUT receives comes back
run=$runs/$name
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$run"
rm -f "$run/ckpt.pt" "$run"/ema_*.pt "$run"/samples_*.png "$run/log.jsonl"
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
  python3 -c 'import torch; print("torch", torch.__version__)'; } | tee "$out/train.out"

# lr 5e-4 decaying as 1/√(images/2M) past 2M images (EDM2), EMA 0.9995 (half-life ~1,400 steps)
# shellcheck disable=SC2086  # $init is empty or two words
python3 -m train.train --name "$name" --preset "$preset" --data "$data" --runs "$runs" --device "$device" $init \
  --batch "$batch" --lr 5e-4 --warmup 300 --decay-images 2e6 --ema 0.9995 --threads 8 --log-every 100 \
  --max-minutes "$minutes" --ckpt-minutes 1.5 --snapshot-minutes "$snapshot" --sample-minutes 3 \
  >>"$out/train.out" 2>&1 &
pid=$!

export_latest() {
  python3 -m train.export --run "$run" --out "$out/$name" >>"$out/train.out" 2>&1
  cp "$run/log.jsonl" "$out/" 2>/dev/null
  ls "$run"/samples_*.png >/dev/null 2>&1 && cp "$(ls "$run"/samples_*.png | tail -1)" "$out/samples.png"
  for f in "$run"/ema_*.pt; do [ -e "$f" ] && [ ! -e "$out/${f##*/}" ] && cp "$f" "$out/"; done
}

last=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 15
  t=$(stat -c %Y "$run/ckpt.pt" 2>/dev/null || echo 0)
  if [ "$t" != "$last" ]; then last=$t; export_latest; fi
done
wait "$pid"; rc=$?
export_latest
tail -3 "$out/train.out"
exit $rc
