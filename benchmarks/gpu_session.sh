#!/usr/bin/env bash
# The GPU checks and benchmarks, as one script for a machine with one NVIDIA GPU and no
# package registry (the numbers in BENCHMARKS.md marked "H200" come from this script).
#
#   bash benchmarks/gpu_session.sh OUT_DIR [ARCHIVE.tgz] [STEP ...]
#
# Needs: python3 with torch (CUDA), gpytorch, h5py, scipy, torchdiffeq; wheels of the
# pure-Python dependencies that machine lacks in .whl/ (neuraloperator, tensorly,
# tensorly-torch, meshio); the darcy-pwc 85x85 training set, generated with FEniCSx on a
# CPU machine by
#   sciml data generate darcy-pwc --n 1200 --resolution 85 \
#       --param store_mesh_values=false --out .bench_data/darcy-pwc-85-n1200.h5
# (deepwave's 363 MB binary and the FEniCSx wheel cannot travel to that machine, so the
# wave and FEM timings come from CPU runs.)
set -u
OUT=${1:?usage: gpu_session.sh OUT_DIR [ARCHIVE] [STEP ...]}
TGZ=${2:-$OUT.tgz}
shift $(( $# < 2 ? $# : 2 ))
STEPS=${*:-operators_darcy linear gpu_tests physics gp operators_tp}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target /tmp/sciml . || exit 1
export PYTHONPATH=/tmp/sciml:/tmp/site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"

step() {  # step NAME SECONDS CMD...: run with a time limit, keep going on failure
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "$name: exit $? in $(( $(date +%s) - t0 )) s" | tee -a "$OUT/steps.txt"
  # one archive of everything so far (a killed session still returns what finished)
  tar czf "$TGZ" -C "$(dirname "$OUT")" "$(basename "$OUT")"
}

for s in $STEPS; do
  case $s in
  # equal wall-clock Darcy training (110 s per model) on darcy-pwc 85x85, 1000/200
  operators_darcy) step $s 250 python3 benchmarks/operators_darcy_ns.py --tasks darcy --models lsm,fno --budget 110 --seeds 1 --device cuda --amp bf16 --channels-last --data-dir .bench_data --no-progress --out "$OUT/operators_darcy.json" ;;
  # learned CG on the GPU vs CG on the same GPU (PETSc GAMG's CPU figure comes from the CPU run)
  linear) step $s 45 python3 benchmarks/linear_solvers.py --sizes 64 128 --device cuda --methods cg jacobi dcdm dcdm-fpcg --out "$OUT/linear_solvers" ;;
  # GPU correctness checks that skip on CPU (device agreement, bf16 training, CUDA CG)
  gpu_tests) step $s 40 python3 -P -m pytest -q -p no:cacheprovider tests/physics/test_physics_gpu.py tests/train/test_train_gpu.py tests/solvers/test_krylov_cg.py tests/solvers/test_dcdm_model.py ;;
  # PDE engine speed: NS steps/s at 64^2 and 256^2 (wave rows need deepwave: skipped there)
  physics) step $s 35 python3 benchmarks/physics_speed.py --device cuda --out "$OUT/physics" ;;
  # GP solver: 2-D Poisson sin(100x)sin(100y) and the 400 x 400 grid's time per iteration
  gp) step $s 40 python3 benchmarks/gp_highfreq.py --quick --device cuda --problems poisson-2d-sin100 --big 400 --out "$OUT/gp" ;;
  # operator training throughput: fp32 / bf16 / channels_last / compile
  operators_tp) step $s 120 python3 benchmarks/operators_darcy_ns.py --mode throughput --device cuda --no-progress --out "$OUT/operators_tp.json" ;;
  *) echo "unknown step $s" ;;
  esac
done
ls -la "$OUT"
