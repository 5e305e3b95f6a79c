#!/usr/bin/env bash
# Trains and evaluates the ten shipped checkpoints, then regenerates the model
# card. Usage: bash weights/train.sh [fashion|mnist|conv|emoji|all]
# (default: all = fashion and mnist). conv: the convolutional Fashion-MNIST
# nets compared in the model card (into weights/compared/; move one up to
# weights/ to ship it). emoji: the colour example (weights/emoji/; downloads
# the npm package emoji-datasource-google once, see the README). beta: the
# series of 2-D Fashion-MNIST VAEs from beta = 0 (an AE's gaps) to beta = 100
# (the posterior collapsed onto the prior): the same seed, data and net (MLP
# 256-128, smaller than the shipped VAE's so that the series stays small),
# 20 epochs each, into weights/fashion-mnist-vae-z2-b<beta>/.
# Needs the full Fashion-MNIST training split: set EXPLORER_DATA_DIR to a folder
# holding fashion-mnist/ and mnist/ IDX files, or be online (downloads to the
# cache). MNIST is trained on its test split and evaluated on the bundled
# 5,000-image training subset (see weights/README.md for why). The 16-D VAEs
# use a Gaussian decoder (sigma 0.05): with the Bernoulli one most of their
# dimensions collapse (see weights/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
common=(--hidden 1024 512 256 --batch-size 128 --lr 1e-3 --seed 0 --no-progress --threads 1)

run() {  # dataset model latent epochs [extra train args...]
  local ds=$1 model=$2 z=$3 epochs=$4
  shift 4
  python -m explorer train --dataset "$ds" --model "$model" --latent-dim "$z" \
    --epochs "$epochs" "${common[@]}" "$@"
  rm -f "weights/$ds-$model-z$z/train_state.safetensors"
  python -m explorer evaluate "weights/$ds-$model-z$z" --threads 2
}

if [[ $which == fashion || $which == all ]]; then
  run fashion-mnist vae 2 150
  run fashion-mnist ae 2 40
  run fashion-mnist vae 16 40 --likelihood gaussian --gaussian-sigma 0.05
  run fashion-mnist ae 16 40
  run fashion-mnist cvae 2 40
fi
if [[ $which == mnist || $which == all ]]; then
  split=(--train-split test --eval-split train5k)
  run mnist vae 2 100 "${split[@]}"
  run mnist ae 2 100 "${split[@]}"
  run mnist vae 16 100 --likelihood gaussian --gaussian-sigma 0.05 "${split[@]}"
  run mnist ae 16 100 "${split[@]}"
  run mnist cvae 2 100 "${split[@]}"
fi
if [[ $which == conv ]]; then
  for spec in "ae 2" "vae 2" "ae 16" "vae 16"; do
    set -- $spec
    out=weights/compared/fashion-mnist-conv-$1-z$2
    python -m explorer train --dataset fashion-mnist --arch conv --model "$1" \
      --latent-dim "$2" --epochs 30 --batch-size 128 --seed 0 --no-progress \
      --threads 1 --out "$out"
    python -m explorer evaluate "$out" --threads 2
  done
fi
if [[ $which == beta ]]; then
  for beta in 0 0.1 0.3 1 3 10 30 100; do
    out=weights/fashion-mnist-vae-z2-b$beta
    python -m explorer train --dataset fashion-mnist --model vae --latent-dim 2 \
      --beta "$beta" --hidden 256 128 --epochs 20 --batch-size 128 --lr 1e-3 \
      --seed 0 --no-progress --threads 1 --out "$out"
    rm -f "$out/train_state.safetensors"
    python -m explorer evaluate "$out" --threads 1
  done
fi
if [[ $which == emoji ]]; then
  emoji=$(python -m explorer emoji)
  for model in vae cvae; do
    out=weights/emoji/emoji-conv-$model-z16
    python -m explorer train --dataset "folder:$emoji" --image-size 64 \
      --channels 3 --arch conv --model $model --latent-dim 16 --epochs 60 \
      --batch-size 64 --seed 0 --no-progress --threads 1 --eval-split test \
      --out "$out"
    python -m explorer evaluate "$out" --threads 1 --iw-images 300
  done
fi
python -m explorer model-card
