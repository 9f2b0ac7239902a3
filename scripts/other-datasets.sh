#!/usr/bin/env bash
# The main job's pipeline on Mini-ImageNet (32 px) and Caltech-101 (docs/RESULTS.md, "Other datasets"): a short generic
# ResNet-20, a zoo of 1,000 + 150 heads of 2-10 classes (tasks drawn without superclasses), a 30-epoch generator, and
# every method on the held-out tasks. Zoo builds and trainings resume when rerun; TINA_THREADS sets the threads.
set -euo pipefail
source "$(dirname "$0")/tina-env.sh"
run() {   # dataset, generic epochs, fine-tuning batch size, prompt kind, extra text options
  local d=$1 epochs=$2 batch=$3 kind=$4; shift 4
  tina generic train --dataset "$d" --arch resnet20 --epochs "$epochs"
  tina zoo build --dataset "$d" --arch resnet20 --tasks 1000 --ood 150 --classes 2-10 --epochs 10 --batch-size "$batch" --out "artifacts/zoo/qs-$d"
  tina train --zoo "artifacts/zoo/qs-$d" --config small --batch-size 16 --lr 1e-3 --epochs 30 --prompt-kind "$kind" "$@" --out "artifacts/tina/qs-$d"
  tina eval --dataset "$d" --arch resnet20 --zoo "artifacts/zoo/qs-$d" --tasks 150 --methods generic,classifier-selection,finetune,taper-mixer,tina \
    --generator "artifacts/tina/qs-$d" --prompt-kind "$kind" "$@" --json "artifacts/eval-qs-$d.json"
}
# GloVe has no vector for Mini-ImageNet's "komondor", so its generator is trained and prompted on the classes'
# WordNet descriptions (data/descriptions/miniimagenet.tsv). Caltech-101 has no descriptions and uses its names; the
# one GloVe lacks, "gerenuk", is encoded as "long-necked antelope" (data/prompts/caltech101-texts.tsv).
run miniimagenet 3 64 descriptions
run caltech101 15 16 names --class-texts data/prompts/caltech101-texts.tsv

# CNN-5K rows (all 5,370 parameters fine-tuned and generated): a 15-epoch generic CNN-5K, a smaller zoo of 200 + 50
# p-Models (CNN-5K fine-tunes the whole network, ~10x the cost of a head) at the CNN-5K learning rate 0.05, and a
# 200-epoch generator.
run_cnn5k() {   # dataset, fine-tuning batch size, prompt kind, extra text options
  local d=$1 batch=$2 kind=$3; shift 3
  tina generic train --dataset "$d" --arch cnn5k --epochs 15
  tina zoo build --dataset "$d" --arch cnn5k --tasks 200 --ood 50 --classes 2-10 --epochs 10 --lr 0.05 --batch-size "$batch" --out "artifacts/zoo/cnn5k-$d"
  tina train --zoo "artifacts/zoo/cnn5k-$d" --config small --batch-size 16 --lr 1e-3 --epochs 200 --normalize none --loss-weighting classifier --prompt-kind "$kind" "$@" --out "artifacts/tina/cnn5k-$d"
  tina eval --dataset "$d" --arch cnn5k --zoo "artifacts/zoo/cnn5k-$d" --tasks 50 --methods generic,classifier-selection,finetune,taper-mixer,tina \
    --generator "artifacts/tina/cnn5k-$d" --prompt-kind "$kind" "$@" --json "artifacts/eval-cnn5k-$d.json"
}
run_cnn5k miniimagenet 64 descriptions
run_cnn5k caltech101 16 names --class-texts data/prompts/caltech101-texts.tsv

# The chart of docs/RESULTS.md (needs the CIFAR-100 results of scripts/quickstart.sh + studies.sh and artifacts/full50).
src/Tina.Cli/bin/Release/net10.0/linux-x64/plot/Tina.Plot pacc --only ood --title "OOD p-Acc by dataset, generic model and p-Model" --out docs/datasets.png \
  --json artifacts/eval-qs-shared-e30.json artifacts/eval-full50.json artifacts/eval-qs-miniimagenet.json artifacts/eval-qs-caltech101.json \
    artifacts/eval-cnn5k-miniimagenet.json artifacts/eval-cnn5k-caltech101.json \
  --labels "CIFAR-100 3-ep." "CIFAR-100 50-ep." "Mini-ImageNet" "Caltech-101" "Mini-ImageNet CNN-5K" "Caltech-101 CNN-5K"
