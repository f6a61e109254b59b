#!/usr/bin/env bash
# The seismic training sets of the zoo (issue 25): OpenFWI-scale maps (70 x 70 velocity, 5 shots,
# 1000 samples, 70 receivers) generated with the deepwave propagator (7x faster than the torch
# OpenFWI scheme on this CPU, gathers within 0.6 % of it). Resumable: rerun to continue.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
N=${N:-2000}
for fam in ${@:-flatvel-a curvevel-a flatfault-a}; do
  out=training/data/seismic-$fam-$N.h5
  [ -f "$out" ] && { echo "$out: done"; continue; }
  resume=(); [ -f "$out.partial" ] && resume=(--resume)
  nice -n 10 .venv/bin/sciml data generate seismic-$fam --n "$N" --seed 0 \
      --param propagator=deepwave --out "$out" --quiet "${resume[@]}"
done
