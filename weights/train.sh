#!/usr/bin/env bash
# Trains and evaluates the ten shipped checkpoints, then regenerates the model
# card. Usage: bash weights/train.sh [fashion|mnist|all]  (default: all)
# Needs the full Fashion-MNIST training split: set EXPLORER_DATA_DIR to a folder
# holding fashion-mnist/ and mnist/ IDX files, or be online (downloads to the
# cache). MNIST is trained on its test split and evaluated on the bundled
# 5,000-image training subset (see weights/README.md for why).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
common=(--hidden 1024 512 256 --batch-size 128 --lr 1e-3 --seed 0 --no-progress --threads 1)

run() {  # dataset model latent epochs [extra train args...]
  local ds=$1 model=$2 z=$3 epochs=$4
  shift 4
  python -m explorer train --dataset "$ds" --model "$model" --latent-dim "$z" \
    --epochs "$epochs" "${common[@]}" "$@"
  python -m explorer evaluate "weights/$ds-$model-z$z" --threads 2
}

if [[ $which == fashion || $which == all ]]; then
  run fashion-mnist vae 2 100
  run fashion-mnist ae 2 40
  run fashion-mnist vae 16 40
  run fashion-mnist ae 16 40
  run fashion-mnist cvae 2 40
fi
if [[ $which == mnist || $which == all ]]; then
  for spec in "vae 2" "ae 2" "vae 16" "ae 16" "cvae 2"; do
    set -- $spec
    run mnist "$1" "$2" 100 --train-split test --eval-split train5k
  done
fi
python -m explorer model-card
