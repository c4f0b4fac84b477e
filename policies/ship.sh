#!/usr/bin/env bash
# Trains (or takes) a policy, exports it and writes its model card:
#   policies/ship.sh ENV_ID [RUN_DIR] [-- TRAIN_ARGS...]
# Without RUN_DIR it trains `tactile train ENV_ID TRAIN_ARGS...` into a
# fresh run folder; with one it ships that run (its train.json, written by
# `tactile train --json`, must sit in the run folder). Writes
# policies/ENV_ID/ (the runtime's policy folder), policies/ENV_ID/policy.onnx,
# card.json (what the shipped-policies test re-checks) and MODEL_CARD.md.
# Needs jq and a release build (`cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "ship.sh needs jq" >&2; exit 1; }
TACTILE=${TACTILE:-target/release/tactile}
id=$1; shift
run=""
if [[ $# -gt 0 && $1 != "--" ]]; then run=$1; shift; fi
[[ ${1:-} == "--" ]] && shift
train_cmd="tactile train $id${*:+ $*}"
if [[ -z $run ]]; then
  run=$(mktemp -d)/run
  "$TACTILE" train "$id" "$@" --out "$run" --json > "$run.train.json"
  mv "$run.train.json" "$run/train.json"
fi
[[ -f $run/train.json ]] || { echo "$run/train.json: missing (the --json line of its training)" >&2; exit 1; }
[[ -f $run/command.txt ]] && train_cmd=$(cat "$run/command.txt")
out=policies/$id
"$TACTILE" export "$run" --format policy --out "$out"
"$TACTILE" export "$out" --format onnx --out "$out/policy.onnx"
stochastic=$(jq -r '.training.eval_stochastic // false' "$out/meta.json")
mode=--deterministic; [[ $stochastic == true ]] && mode=--stochastic
eval_cmd="tactile eval policies/$id --episodes 100 --seed 0 $mode --json"
"$TACTILE" eval "$out" --episodes 100 --seed 0 $mode --json > "$out/eval.json"
machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem:/{print $2}') GiB"
jq -n --slurpfile t "$run/train.json" --slurpfile e "$out/eval.json" --slurpfile m "$out/meta.json" \
  --arg train_cmd "$train_cmd" --arg eval_cmd "$eval_cmd" --arg machine "$machine" '{
    env_id: $e[0].env_id, algo: $e[0].algo,
    tactile_version: $m[0].tactile_version, commit: $m[0].commit,
    training: {command: $train_cmd, steps: $t[0].steps, wall_s: $t[0].wall_s, machine: $machine},
    eval: {command: $eval_cmd, episodes: $e[0].episodes, seed: $e[0].seed, stochastic: $e[0].stochastic,
           success_rate: $e[0].success_rate, mean_return: $e[0].mean_return,
           mean_episode_len: $e[0].mean_episode_len, final_facts: ($e[0].final_facts // {})}
  }' > "$out/card.json"
rm "$out/eval.json"
jq -r '"# \(.env_id) (\(.algo))\n\n" +
  "| | |\n|---|---|\n" +
  "| task | `\(.env_id)` (the id carries its version) |\n" +
  "| trained with | `\(.training.command)` |\n" +
  "| steps | \(.training.steps) |\n" +
  "| wall time | \(.training.wall_s | floor) s |\n" +
  "| machine | \(.training.machine) |\n" +
  "| tactile | \(.tactile_version), commit `\(.commit)` |\n" +
  "| evaluated with | `\(.eval.command)` |\n" +
  "| success rate | \(.eval.success_rate) over \(.eval.episodes) episodes |\n" +
  "| mean return | \(.eval.mean_return * 1000 | round / 1000) |\n" +
  "| mean episode length | \(.eval.mean_episode_len) |\n" +
  ([.eval.final_facts | to_entries[] | "| mean final `\(.key)` | \(.value * 1000 | round / 1000) |\n"] | add // "") + "\n" +
  "Files: `meta.json`, `model.safetensors` and `checksums.json` (the tactile-policy runtime loads the folder), " +
  "`policy.onnx` (input `obs`, output `action`, normalisation and clipping inside), `card.json` " +
  "(these figures; the test suite re-evaluates the folder and checks them)."' "$out/card.json" > "$out/MODEL_CARD.md"
# A folder that declares by the Bayes posterior says so (its runtime and
# its ONNX graph declare differently).
jq -r '.discriminator.posterior // empty |
  "\nWho declares: the Bayes posterior over the \(.objects_m | length) known objects " +
  "(`discriminator.posterior` in `meta.json`: their cross-sections, the finger, a \(.guard_m * 1000) mm guard, " +
  "the jitter, the grid, \(.phantom_prob * 100) % phantom contacts, a lattice of \(.lattice.yaws) yaws x " +
  "\(.lattice.offsets) x \(.lattice.offsets) offsets, threshold \(.threshold)), not a learned network: " +
  "a model-based discriminator, where TANDEM'"'"'s is learned. The co-trained CNN in " +
  "`discriminator.safetensors` stays in the folder (`tactile eval --discriminator learned`). " +
  "`policy.onnx` declares by the CNN (a stateless graph cannot keep the posterior'"'"'s evidence); " +
  "the tactile-policy runtime declares by the posterior."' "$out/meta.json" >> "$out/MODEL_CARD.md"
cat "$out/MODEL_CARD.md"
