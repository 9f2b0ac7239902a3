#!/usr/bin/env bash
# The paper's studies at the main job's scale (docs/RESULTS.md, "The paper's studies"): run after ./scripts/quickstart.sh
# (which leaves the 3-epoch generic ResNet-20 and the zoo artifacts/quickstart/zoo). About an hour on 2 cores.
# Zoo builds and trainings resume when rerun; TINA_THREADS sets the threads.
set -euo pipefail
source "$(dirname "$0")/tina-env.sh"
ZOO=artifacts/quickstart/zoo
TRAIN=(--config small --batch-size 16 --lr 1e-3)

# The name-trained generator of RESULTS' first section, then fewer epochs (minutes to a good generator).
for E in 30 5 10 20; do
  tina train --zoo $ZOO "${TRAIN[@]}" --epochs $E --out artifacts/tina/qs-shared-e$E
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods generic,classifier-selection,finetune,tina --generator artifacts/tina/qs-shared-e$E --json artifacts/eval-qs-shared-e$E.json
done

# A second generator seed on the main job's zoo. (The generators relative to classifier selection, --relative-to, and
# with task mixing, --mix-tasks, measured no gain; those options were removed after commit adedade, which runs them.)
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 30 --seed 1 --out artifacts/quickstart/tina-seed1
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods generic,classifier-selection,finetune,tina --generator artifacts/quickstart/tina-seed1 --json artifacts/eval-qs-seed1.json

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
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods taper-mixer --prompt-kind descriptions --json artifacts/eval-qs-taper-desc.json

# Other words for the same class: plurals.
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --class-texts data/prompts/cifar100-plurals.tsv --json artifacts/eval-qs-plurals.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-mixed-e30 --class-texts data/prompts/cifar100-plurals.tsv --json artifacts/eval-qs-mixed-plurals.json

# Images as prompts, zero-shot (paper Figure 6a).
tina image-prompts fit --dataset cifar100 --arch resnet20
for K in 1 5; do
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --image-shots $K --json artifacts/eval-qs-image$K.json
done

# Other words for the same class: hand-written synonyms (data/prompts/cifar100-synonyms.tsv). Casing needs no study:
# both text encoders lower-case their input, so "Apple" and "apple" are the same prompt.
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30 --class-texts data/prompts/cifar100-synonyms.tsv --json artifacts/eval-qs-synonyms.json
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-mixed-e30 --class-texts data/prompts/cifar100-synonyms.tsv --json artifacts/eval-qs-mixed-synonyms.json

# Images as prompts, few-shot: the name-trained generator fine-tuned 5 epochs with half of its class slots shown by K
# training images (through the projector), then prompted with K images per class (and, for K = 5, with names again).
for K in 1 5; do
  tina train --zoo $ZOO --config small --batch-size 16 --lr 2e-4 --warmup-epochs 0 --epochs 5 --init artifacts/tina/qs-shared-e30 --image-shots $K --out artifacts/tina/qs-shared-e30-images$K
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30-images$K --image-shots $K --json artifacts/eval-qs-fewshot$K.json
done
tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/qs-shared-e30-images5 --json artifacts/eval-qs-fewshot5-names.json

# Ablations (paper Table 3), one flag changed from the default generator each time.
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 30 --ablation no-augmentation --out artifacts/tina/qs-shared-e30-noaug
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 30 --vary-classes 0 --out artifacts/tina/qs-shared-e30-vary0
# Without sequence padding only the zoo's 111 ten-class tasks are trained on: 270 epochs give the default's 1,890 steps.
tina train --zoo $ZOO "${TRAIN[@]}" --epochs 270 --ablation no-sequence-padding --out artifacts/tina/qs-shared-nopad
# The merged text token needs the paper's per-token layout; compare it with that layout (rows).
tina train --zoo $ZOO --config small --ablation rows --batch-size 16 --lr 1e-3 --epochs 30 --out artifacts/tina/qs-rows-e30
tina train --zoo $ZOO --config small --batch-size 16 --lr 1e-3 --epochs 30 --ablation merged-text-token --out artifacts/tina/qs-rows-e30-merged
for G in qs-shared-e30-noaug qs-shared-e30-vary0 qs-shared-nopad qs-rows-e30 qs-rows-e30-merged; do
  tina eval --arch resnet20 --zoo $ZOO --tasks 150 --methods tina --generator artifacts/tina/$G --json artifacts/eval-$G.json
done
# Neuron-permutation augmentation needs hidden neurons: a small CNN-5K zoo of 2-10 classes.
tina generic train --dataset cifar100 --arch cnn5k --epochs 15
tina zoo build --arch cnn5k --tasks 96 --ood 32 --classes 2-10 --lr 0.05 --epochs 10 --out artifacts/zoo/cnn5k-small-mixed
for P in "" "--ablation neuron-permutation"; do
  G=cnn5k-small-mixed-shared${P:+-perm}
  tina train --zoo artifacts/zoo/cnn5k-small-mixed --config small --batch-size 16 --epochs 300 --normalize none --loss-weighting classifier $P --out artifacts/tina/$G
  tina eval --arch cnn5k --zoo artifacts/zoo/cnn5k-small-mixed --tasks 100 --methods generic,classifier-selection,finetune,tina --generator artifacts/tina/$G --json artifacts/eval-$G.json
done

# CNN-5K with the tuned recipe (lr 0.2, 30 epochs: the zoo build defaults then), 500 + 100 p-Models built by two processes,
# and generators with three loss set-ups (docs/RESULTS.md, "CNN-5K with the tuned recipe").
TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 500 --ood 100 --classes 2-10 --lr 0.2 --processes 2 --out artifacts/cnn5k-600/zoo
tina train --zoo artifacts/cnn5k-600/zoo --config small --batch-size 16 --epochs 150 --normalize none --loss-weighting classifier --out artifacts/cnn5k-600/tina
tina eval --arch cnn5k --zoo artifacts/cnn5k-600/zoo --tasks 100 --methods generic,classifier-selection,finetune,tina --generator artifacts/cnn5k-600/tina --json artifacts/eval-cnn5k-600.json
# (Its --normalize center run needs commit adedade, the last with that normalisation.)
for NW in "per-tensor per-tensor"; do
  set -- $NW
  tina train --zoo artifacts/cnn5k-600/zoo --config small --batch-size 16 --epochs 150 --normalize "$1" --loss-weighting "$2" --out "artifacts/cnn5k-600/tina-n$1-w$2"
  tina eval --arch cnn5k --zoo artifacts/cnn5k-600/zoo --tasks 100 --methods tina --generator "artifacts/cnn5k-600/tina-n$1-w$2" --json "artifacts/eval-cnn5k-600-n$1-w$2.json"
done

# L2-SP on CNN-5K (pull toward the generic weights during fine-tuning), chosen on a validation split, and the
# per-tensor generator trained four times longer on the same 600 p-Models (docs/RESULTS.md, "L2-SP" and "longer").
TINA_THREADS=2 tina zoo tune --dataset cifar100 --arch cnn5k --tasks 16 --lr 0.2 --epochs 30 --label-smoothing 0 --l2-sp 0,0.001,0.003,0.01
tina train --zoo artifacts/cnn5k-600/zoo --config small --batch-size 16 --epochs 600 --normalize per-tensor --loss-weighting per-tensor --out artifacts/cnn5k-600/tina-nper-tensor-wper-tensor-e600
tina eval --arch cnn5k --zoo artifacts/cnn5k-600/zoo --tasks 100 --methods tina --generator artifacts/cnn5k-600/tina-nper-tensor-wper-tensor-e600 --json artifacts/eval-cnn5k-600-nper-tensor-wper-tensor-e600.json
TINA_THREADS=2 tina bench zoo --dataset cifar100 --arch cnn5k --tasks 32 --groups 16 --epochs 10 --processes 2
# The same 600 tasks fine-tuned with lr 0.05 (the validation runner-up, bodies move less) and the same generator.
TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 500 --ood 100 --classes 2-10 --lr 0.05 --processes 2 --out artifacts/cnn5k-600-lr005/zoo
tina train --zoo artifacts/cnn5k-600-lr005/zoo --config small --batch-size 16 --epochs 150 --normalize per-tensor --loss-weighting per-tensor --out artifacts/cnn5k-600-lr005/tina-nper-tensor-wper-tensor
tina eval --arch cnn5k --zoo artifacts/cnn5k-600-lr005/zoo --tasks 100 --methods generic,classifier-selection,finetune,tina --generator artifacts/cnn5k-600-lr005/tina-nper-tensor-wper-tensor --json artifacts/eval-cnn5k-600-lr005.json

# The zoo recipe chosen by what a generator learns from it, without the test split: validation zoos (p-Models
# fine-tuned without 10 % of each class's training images), a generator on each, every method scored on those images
# (docs/RESULTS.md, "Choosing the zoo recipe for the generator").
for LR in 0.05 0.2; do
  TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 200 --ood 50 --classes 2-10 --lr $LR --val-fraction 0.1 --processes 2 --out artifacts/val-zoo/lr$LR/zoo
  tina train --zoo artifacts/val-zoo/lr$LR/zoo --config small --batch-size 16 --epochs 150 --normalize per-tensor --loss-weighting per-tensor --out artifacts/val-zoo/lr$LR/tina
  tina eval --arch cnn5k --zoo artifacts/val-zoo/lr$LR/zoo --tasks 100 --methods classifier-selection,finetune,tina --generator artifacts/val-zoo/lr$LR/tina --json artifacts/val-zoo/lr$LR/eval.json
done
# The convolutions at a share of the classifier's learning rate (--body-lr-scale), same protocol.
for RUN in "lr0.2-body0.25 0.2 0.25" "lr0.05-body0.25 0.05 0.25" "lr0.05-body0.1 0.05 0.1"; do
  set -- $RUN
  TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 200 --ood 50 --classes 2-10 --lr $2 --body-lr-scale $3 --val-fraction 0.1 --processes 2 --out artifacts/val-zoo/$1/zoo
  tina train --zoo artifacts/val-zoo/$1/zoo --config small --batch-size 16 --epochs 150 --normalize per-tensor --loss-weighting per-tensor --out artifacts/val-zoo/$1/tina
  tina eval --arch cnn5k --zoo artifacts/val-zoo/$1/zoo --tasks 100 --methods classifier-selection,finetune,tina --generator artifacts/val-zoo/$1/tina --json artifacts/val-zoo/$1/eval.json
done

# A second generator seed on the lr 0.05 validation zoo. (Its runs with --relative-to classifier-selection and
# --mix-tasks 0.25/0.5/0.8 measured no gain; the options were removed after commit adedade, which runs them.)
for RUN in "tina-s1 --seed 1"; do
  set -- $RUN; NAME=$1; shift
  tina train --zoo artifacts/val-zoo/lr0.05/zoo --config small --batch-size 16 --epochs 150 --normalize per-tensor --loss-weighting per-tensor "$@" --out artifacts/val-zoo/lr0.05/$NAME
  tina eval --arch cnn5k --zoo artifacts/val-zoo/lr0.05/zoo --tasks 100 --methods classifier-selection,finetune,tina --generator artifacts/val-zoo/lr0.05/$NAME --json artifacts/val-zoo/lr0.05/eval-$NAME.json
done

# Full size for CNN-5K: the paper's 1,000 + 150 tasks with the default recipe (lr 0.05, 30 epochs), a generator, a
# second seed and twice the epochs (docs/RESULTS.md, "CNN-5K at the paper's size"; its --mix-tasks 0.25 run needs
# commit adedade, the last with the option).
TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 1000 --ood 150 --classes 2-10 --lr 0.05 --processes 2 --out artifacts/cnn5k-1150-lr005/zoo
for RUN in "tina 100 1" "tina-s1 100 1 --seed 1" "tina-e200 200 2"; do
  set -- $RUN; NAME=$1; EPOCHS=$2; THREADS=$3; shift 3   # the thread counts they ran with (bits depend on them)
  TINA_THREADS=$THREADS tina train --zoo artifacts/cnn5k-1150-lr005/zoo --config small --batch-size 16 --epochs $EPOCHS --normalize per-tensor --loss-weighting per-tensor "$@" --out artifacts/cnn5k-1150-lr005/$NAME
done
tina eval --arch cnn5k --zoo artifacts/cnn5k-1150-lr005/zoo --tasks 150 --methods generic,classifier-selection,finetune,tina --generator artifacts/cnn5k-1150-lr005/tina --json artifacts/eval-cnn5k-1150-lr005.json
for NAME in tina-s1 tina-e200; do
  tina eval --arch cnn5k --zoo artifacts/cnn5k-1150-lr005/zoo --tasks 150 --methods tina --generator artifacts/cnn5k-1150-lr005/$NAME --json artifacts/eval-cnn5k-1150-lr005-${NAME#tina-}.json
done

# Where a generated CNN-5K p-Model loses accuracy: a 600-task validation zoo of the default recipe, generators with
# per-tensor and standardized parameters and with 256-number tokens, each scored with parts swapped for the fine-tuned
# p-Model's or classifier selection's (--splice), and the sampler's step count (docs/RESULTS.md, "Where a generated
# CNN-5K p-Model loses accuracy"). Its runs with --normalize standardize, --chunk-size 256, --dropout 0.1 and
# --weight-decay 1 measured no gain; the options were removed after commit adedade, which runs them.
TINA_THREADS=2 tina zoo build --dataset cifar100 --arch cnn5k --tasks 500 --ood 100 --classes 2-10 --lr 0.05 --val-fraction 0.1 --processes 2 --out artifacts/val600/zoo
for RUN in "tina --normalize per-tensor"; do
  set -- $RUN; NAME=$1; shift
  TINA_THREADS=1 tina train --zoo artifacts/val600/zoo --config small --batch-size 16 --epochs 150 --loss-weighting per-tensor "$@" --out artifacts/val600/$NAME
  tina eval --arch cnn5k --zoo artifacts/val600/zoo --tasks 100 --methods classifier-selection,finetune,tina --splice finetune/tina,tina/finetune,classifier-selection/tina,tina/classifier-selection --generator artifacts/val600/$NAME --json artifacts/val600/eval-$NAME.json
done
for S in 1 5 10 200; do
  tina eval --arch cnn5k --zoo artifacts/val600/zoo --tasks 100 --methods tina --ddim-steps $S --generator artifacts/val600/tina --json artifacts/val600/eval-tina-ddim$S.json
done

# Charts: unseen classes, prompts, ablations.
PLOT="tina plot"   # word-split on purpose below: the tina function, subcommand plot
$PLOT pacc --json artifacts/eval-qs-unseen50.json --labels "" --title "Unseen classes: zoo without 50 of CIFAR-100's classes (ResNet-20 heads)" --out docs/unseen-classes.png
$PLOT pacc --only ood --methods tina --title "Tina's OOD p-Acc by prompt (* = generator trained on that kind)" --out docs/prompts.png \
  --json artifacts/eval-qs-shared-e30.json artifacts/eval-qs-names-on-desc.json artifacts/eval-qs-desc-on-desc.json artifacts/eval-qs-plurals.json \
    artifacts/eval-qs-synonyms.json artifacts/eval-qs-image1.json artifacts/eval-qs-image5.json artifacts/eval-qs-fewshot1.json artifacts/eval-qs-fewshot5.json \
  --labels "names" "descr." "descr.*" "plurals" "synonyms" "1 image" "5 images" "1 image*" "5 images*"
$PLOT pacc --only ood --methods tina --title "Ablations: Tina's OOD p-Acc (ResNet-20 heads; CNN-5K small zoo)" --out docs/ablations.png \
  --json artifacts/eval-qs-shared-e30.json artifacts/eval-qs-shared-e30-noaug.json artifacts/eval-qs-shared-e30-vary0.json artifacts/eval-qs-shared-nopad.json \
    artifacts/eval-qs-rows-e30.json artifacts/eval-qs-rows-e30-merged.json artifacts/eval-cnn5k-small-mixed-shared.json artifacts/eval-cnn5k-small-mixed-shared-perm.json \
  --labels "default" "no cls. aug." "no prefixes" "no padding" "rows" "rows merged" "CNN-5K" "CNN-5K perm."
