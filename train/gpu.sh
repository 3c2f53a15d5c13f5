#!/usr/bin/env bash
# Train lego-emoji-32 for a fixed time on one GPU, exporting as it goes, so that a machine lent
# for minutes (and cut off without warning) still leaves the newest weights in $OUT.
#
#   OUT=out MINUTES=8 bash train/gpu.sh        # needs data/ (npm run dataset) next to the repo
#
# No checkpoint travels: it starts from the committed public/models/lego-emoji-32 (images seen
# carry on from its model.json) with a fresh optimiser. $OUT receives train.out, log.jsonl, the
# export (lego-emoji-32/model.json + weights.safetensors), the last sample grid and the fp16 EMA
# snapshots. Copy the export back to public/models/ and append log.jsonl to runs/lego-emoji-32/.
# DEVICE=cpu BATCH=16 MINUTES=0.5 tries it out here (with /usr/bin/python3 first on PATH).
set -u
out=${OUT:?set OUT to the folder that receives the results}
minutes=${MINUTES:-8}
device=${DEVICE:-cuda}
batch=${BATCH:-512}
runs=${RUNS:-/tmp/lego-gpu-runs}  # scratch: only what $OUT receives comes back
run=$runs/lego-emoji-32
export PYTHONUNBUFFERED=1
mkdir -p "$out" "$run"
rm -f "$run/ckpt.pt" "$run"/ema_*.pt "$run"/samples_*.png "$run/log.jsonl"  # start from the export
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
  python3 -c 'import torch; print("torch", torch.__version__)'; } | tee "$out/train.out"

python3 -m train.train --name lego-emoji-32 --runs "$runs" --device "$device" --init public/models/lego-emoji-32 \
  --batch "$batch" --lr 5e-4 --warmup 300 --ema 0.9995 --threads 8 --log-every 100 \
  --max-minutes "$minutes" --ckpt-minutes 1.5 --snapshot-minutes 2.5 --sample-minutes 2.5 \
  >>"$out/train.out" 2>&1 &
pid=$!

export_latest() {
  python3 -m train.export --run "$run" --out "$out/lego-emoji-32" >>"$out/train.out" 2>&1
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
