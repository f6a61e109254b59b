#!/usr/bin/env bash
# Long zoo trainings, resumable: run from the repository root, again and again, until done.
# Each run checkpoints after every epoch (last.pt; exact resume); a finished run is skipped.
# One torch thread, niced, so the machine stays usable. Data come from the recipes (seeded):
# the files are regenerated when missing, bit for bit the same.
set -euo pipefail
cd "$(dirname "$0")/.."
sciml=.venv/bin/sciml
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
data=training/data
mkdir -p "$data"
gen() {  # recipe n seed file
  [ -f "$data/$4" ] || $sciml data generate "$1" --n "$2" --seed "$3" --out "$data/$4" --quiet
}
gen darcy-two-phase 10000 0 two-phase-10k.h5
gen darcy-two-phase 200 1 two-phase-test.h5
gen darcy-two-phase-ood 200 2 two-phase-ood.h5
gen darcy-lognormal 2000 0 lognormal-2k.h5
gen darcy-lognormal 200 1 lognormal-test.h5
for name in ${@:-dgno-two-phase dgno-lognormal}; do
  out=training/$name
  [ -f "$out/summary.json" ] && { echo "$name: finished"; continue; }
  resume=(); [ -f "$out/last.pt" ] && resume=(--resume)
  nice -n 10 $sciml train --config "training/$name.json" --out "$out" --no-progress "${resume[@]}"
done
