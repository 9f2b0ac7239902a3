#!/usr/bin/env bash
# Issue "Any words", one vocabulary: CIFAR-100, Caltech-101 and Mini-ImageNet as one 276-class dataset ('merged') on
# ML.NET's ResNet-18; features, generic head, zoo, a MiniLM-conditioned generator, and p-Acc per home dataset and for
# mixed lists. Every step resumes after a kill (rerun the script). Usage: scripts/merged-vocabulary.sh [TINA_BIN]
# (TINA_BIN: a built tina, default the Release build; copy it elsewhere first if you rebuild while this runs).
set -euo pipefail
cd "$(dirname "$0")/.."
tina="${1:-src/Tina.Cli/bin/Release/net10.0/linux-x64/Tina.Cli}"
out="${TINA_ARTIFACTS:-artifacts}/merged"
mkdir -p "$out"
"$tina" features --dataset merged
"$tina" generic train --dataset merged --arch resnet18
"$tina" zoo build --dataset merged --arch resnet18 --tasks 1000 --ood 150 --classes 2-10 --batch-size 16 --out "$out/zoo"
"$tina" train --zoo "$out/zoo" --config small --batch-size 16 --lr 1e-3 --epochs 30 --encoder minilm --out "$out/tina-minilm-mixup"
"$tina" eval --dataset merged --arch resnet18 --zoo "$out/zoo" --tasks 150 --encoder minilm \
  --methods generic,classifier-selection,finetune,text-to-rows,tina --generator "$out/tina-minilm-mixup" --json "$out/eval-mixup.json"
# Unseen classes in one vocabulary: half of the 276 classes kept out of every training task (138 seen classes to learn
# a map from text to rows, against 50 on CIFAR-100 alone); the recipe's generator, MiniLM.
"$tina" zoo build --dataset merged --arch resnet18 --tasks 1000 --ood 150 --classes 2-10 --batch-size 16 --unseen-classes 0.5 --out "$out/zoo-unseen"
"$tina" train --zoo "$out/zoo-unseen" --out "$out/tina-unseen-minilm-mixup"
"$tina" eval --dataset merged --arch resnet18 --zoo "$out/zoo-unseen" --tasks 150 --methods classifier-selection,text-to-rows,tina \
  --generator "$out/tina-unseen-minilm-mixup" --json "$out/eval-unseen-mixup.json"
