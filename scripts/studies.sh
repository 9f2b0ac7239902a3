#!/usr/bin/env bash
# The paper's studies at the main job's scale (docs/RESULTS.md, "The paper's studies"): run after ./scripts/quickstart.sh
# (which leaves the 3-epoch generic ResNet-20 and the zoo artifacts/quickstart/zoo). About an hour on 2 cores.
# Zoo builds and trainings resume when rerun; TINA_THREADS sets the threads.
set -euo pipefail
source "$(dirname "$0")/tina-env.sh"
ZOO=artifacts/quickstart/zoo
TRAIN=(--config small --classifier-tokens shared --batch-size 16 --lr 1e-3)

# The name-trained generator of RESULTS' first section, then fewer epochs (minutes to a good generator).
for E in 30 5 10 20; do
  tina train --zoo $ZOO "${TRAIN[@]}" --epochs $E --out artifacts/tina/qs-shared-e$E
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods generic,classifier-selection,finetune,tina --generator artifacts/tina/qs-shared-e$E --json artifacts/eval-qs-shared-e$E.json
done

# TAPER-Mixer next to classifier selection.
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods classifier-selection,taper-mixer --json artifacts/eval-qs-taper.json

# Unseen classes (paper Table 3).
tina zoo build --dataset cifar100 --arch resnet20 --tasks 1000 --ood 160 --classes 2-10 --epochs 10 --unseen-classes 0.5 --out artifacts/zoo/qs-unseen50
tina train --zoo artifacts/zoo/qs-unseen50 "${TRAIN[@]}" --epochs 30 --out artifacts/tina/qs-unseen50
tina eval --arch resnet20 --zoo artifacts/zoo/qs-unseen50 --tasks 150 --methods generic,classifier-selection,finetune,taper-mixer,tina --generator artifacts/tina/qs-unseen50 --json artifacts/eval-qs-unseen50.json

# Descriptions as prompts (paper Figure 6c): train on names / descriptions / both, prompt with names / descriptions.
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 30 --prompt-kind descriptions --out artifacts/tina/qs-desc-e30
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 30 --prompt-kind mixed --out artifacts/tina/qs-mixed-e30
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --prompt-kind descriptions --json artifacts/eval-qs-names-on-desc.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-desc-e30 --prompt-kind descriptions --json artifacts/eval-qs-desc-on-desc.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-desc-e30 --prompt-kind names --json artifacts/eval-qs-desc-on-names.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-mixed-e30 --prompt-kind names --json artifacts/eval-qs-mixed-on-names.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-mixed-e30 --prompt-kind descriptions --json artifacts/eval-qs-mixed-on-desc.json

# Other words for the same class: plurals.
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --class-texts data/prompts/cifar100-plurals.tsv --json artifacts/eval-qs-plurals.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-mixed-e30 --class-texts data/prompts/cifar100-plurals.tsv --json artifacts/eval-qs-mixed-plurals.json

# Images as prompts, zero-shot (paper Figure 6a).
tina image-prompts fit --dataset cifar100 --arch resnet20
for K in 1 5; do
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --image-shots $K --json artifacts/eval-qs-image$K.json
done

# The chart of the unseen-classes study.
plot/Tina.Plot pacc --json artifacts/eval-qs-unseen50.json --labels "" --title "Unseen classes: zoo without 50 of CIFAR-100's classes (ResNet-20 heads)" --out docs/unseen-classes.png 2>/dev/null \
  || src/Tina.Plot/bin/Release/net10.0/linux-x64/Tina.Plot pacc --json artifacts/eval-qs-unseen50.json --labels "" --title "Unseen classes: zoo without 50 of CIFAR-100's classes (ResNet-20 heads)" --out docs/unseen-classes.png
