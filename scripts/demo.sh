#!/usr/bin/env bash
# make demo: prepare the default model, build a demo store, print what is in it, open the TUI.
# DEMO_HEADLESS=1 stops before the TUI. DEMO_DB sets the store path (default demo/still2.duckdb).
set -euo pipefail
cd "$(dirname "$0")/.."
DB="${DEMO_DB:-demo/still2.duckdb}"
STILL2=".venv/bin/python -m pipeline"
SHARED="../shared/data"
mkdir -p "$(dirname "$DB")"

echo "== preparing the default model (SmolLM2-135M-Instruct, cached after the first run)"
$STILL2 prepare-model

echo "== store $DB"
$STILL2 init --db "$DB"
$STILL2 problems generate --kind mixed --difficulty 1 -n 20 --seed 0 --split train --db "$DB"
$STILL2 problems generate --kind mixed --difficulty 3 -n 20 --seed 1 --split test --db "$DB"
if [ -d "$SHARED" ]; then
  $STILL2 problems add "$SHARED/benchmarks/math500.jsonl" "$SHARED/benchmarks/aime24.jsonl" \
    "$SHARED/benchmarks/aime25.jsonl" "$SHARED/benchmarks/amc23.jsonl" "$SHARED/benchmarks/gsm8k_test.jsonl" --db "$DB"
  $STILL2 problems add "$SHARED/benchmarks/math_train_hard.jsonl" --skip-bad --db "$DB"
  $STILL2 import "$SHARED/trajectories/trajectories_skyt1_32b_aime24.jsonl" --model Sky-T1-32B-ckpt140 --db "$DB"
  $STILL2 import "$SHARED/trajectories/trajectories_skyt1_14b_amc23.jsonl" --model Sky-T1-14B --db "$DB"
else
  echo "(no $SHARED here: skipping the benchmark and trajectory imports)"
fi

echo "== exploring: SmolLM2 samples up to 4 rollouts on 12 one-step problems (a few minutes on CPU)"
# The 135M model almost never solves multi-step problems; one-step ones it sometimes gets right.
$STILL2 problems add examples/easy_arithmetic.jsonl --source easy --split train --db "$DB"
$STILL2 explore --db "$DB" --source easy --max-rollouts 4 --per-round 4 --batch-problems 12 \
  --max-new-tokens 48 --temperature 0.7 --no-system --iteration 0

echo "== verifying imported trajectories, filtering, scoring perplexity, building pairs and a dataset"
$STILL2 verify --db "$DB" --stale
$STILL2 filter --db "$DB"
$STILL2 score --db "$DB" --part both --where "origin = 'explore'"
$STILL2 pairs build --db "$DB" --max-per-problem 2
# Correct rollouts only (the verifier found their answer); not no_answer: with --no-system SmolLM2 writes no
# STILL sections, so no_answer ("no solution section") flags every rollout and the set came out empty.
$STILL2 dataset build demo-d1 --db "$DB" --origins explore --exclude-flags repetition --replace
$STILL2 dataset show demo-d1 --db "$DB"
$STILL2 stats --db "$DB"

if [ "${DEMO_HEADLESS:-0}" = "1" ]; then
  echo "DEMO_HEADLESS=1: not opening the TUI. Open it with: .venv/bin/still2tui --db $DB"
else
  exec .venv/bin/still2tui --db "$DB"
fi
