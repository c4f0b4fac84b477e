#!/usr/bin/env bash
# The GPU table: CPU (every core) against the GPU on the same machine, on
# `tactile bench ppo`'s workloads (today's small ones and the large-batch
# ones) and one end-to-end training run of a large-batch configuration.
# Meant for a lent machine with a GPU, run once: it prints what it
# measures and writes every JSON object and log under OUT.
#
#   scripts/gpu-bench.sh BINARY OUT [DEVICES...]
#
# BINARY: a `tactile` built with the GPU features, e.g.
#   cargo build --release --no-default-features --features wgpu,vulkan -p tactile
# (no viewer: a smaller binary that can be copied to a machine that has no
# registry to build from). DEVICES: default `wgpu vulkan` (add `cuda` for a
# binary built with it). The machine's adapter is in each JSON object
# (`adapter`), and `nvidia-smi -L` is recorded where there is one.
set -uo pipefail
bin=${1:?usage: gpu-bench.sh BINARY OUT [DEVICES...]}
out=${2:?usage: gpu-bench.sh BINARY OUT [DEVICES...]}
shift 2
if [ $# -eq 0 ]; then devices=(wgpu vulkan); else devices=("$@"); fi
mkdir -p "$out"
{ nproc; lscpu | grep 'Model name'; nvidia-smi -L 2>&1 || true; } > "$out/machine.txt"
cat "$out/machine.txt"

for d in cpu "${devices[@]}"; do
    echo "== bench ppo --device $d"
    timeout 240 "$bin" bench ppo --device "$d" --json > "$out/bench-$d.json" 2> "$out/bench-$d.err"
    echo "rc $?"; cat "$out/bench-$d.json"; tail -3 "$out/bench-$d.err"
done

# End to end: Press-v0's large-batch configuration (256 envs on every
# core, 32,768-sample rollouts, minibatches of 4,096), 10 rollouts.
for d in cpu "${devices[@]}"; do
    echo "== train Press-v0 --large-batch --device $d"
    start=$(date +%s%N)
    timeout 240 "$bin" train Press-v0 --large-batch --steps 327680 --device "$d" \
        --out "$out/run-$d" --eval-episodes 10 --json > "$out/train-$d.json" 2> "$out/train-$d.err"
    rc=$?
    end=$(date +%s%N)
    echo "rc $rc, wall $(( (end - start) / 1000000 )) ms"
    cat "$out/train-$d.json"; tail -3 "$out/train-$d.err"
    grep -h '"adapter"' "$out/run-$d/config.json" 2>/dev/null
done
