#!/usr/bin/env bash
# The whole Tina pipeline at a small scale, from a fresh clone, on ML.NET's pretrained ResNet-18:
#   data → backbone features (once) → generic head (stage 1) → a zoo of fine-tuned classifier heads (stage 2) → Tina
#   trained on it (stage 3) → a classifier generated for a class list (one ONNX file + ML.NET zip) → predictions on real
#   CIFAR-100 test images through ML.NET's PredictionEngine → p-Acc of Tina against the baselines on held-out class
#   lists → the same on photos from another source (Caltech-101's photos of the classes both datasets name).
# Every stage is resumable and reused: a second run skips what is finished. Artifacts go to ./artifacts
# (or $TINA_ARTIFACTS). The sizes below are the small scale; docs/RESULTS.md has the full-scale commands.
set -euo pipefail
source "$(dirname "$0")/tina-env.sh"
ARCH=resnet18
# A subset keeps the backbone pass (about 11 ms per image at 224 px on 2 cores) to 15,000 images: the first
# TRAIN_PER_CLASS training and TEST_PER_CLASS test images of every CIFAR-100 class (the full data: docs/RESULTS.md).
TRAIN_PER_CLASS="${TRAIN_PER_CLASS:-100}"
TEST_PER_CLASS="${TEST_PER_CLASS:-50}"
DATASET="cifar100@${TRAIN_PER_CLASS}+${TEST_PER_CLASS}"
# The zoo and generator settings are the recipe's (tina zoo build / tina train --recipe; src/Tina/Recipe.cs):
# 1000 ID + 150 held-out tasks of every prompt length from 2 to 10 classes, heads fine-tuned 10 epochs at lr 0.005,
# a small generator trained 30 epochs (batch 16, lr 1e-3, per-tensor normalised parameters). ZOO_TASKS, ZOO_OOD,
# ZOO_CLASSES, ZOO_EPOCHS and TINA_EPOCHS override single values.
RECIPE=resnet18-heads
ZOO_ARGS=()
[[ -n "${ZOO_TASKS:-}" ]] && ZOO_ARGS+=(--tasks "$ZOO_TASKS")
[[ -n "${ZOO_OOD:-}" ]] && ZOO_ARGS+=(--ood "$ZOO_OOD")
[[ -n "${ZOO_CLASSES:-}" ]] && ZOO_ARGS+=(--classes "$ZOO_CLASSES")
[[ -n "${ZOO_EPOCHS:-}" ]] && ZOO_ARGS+=(--epochs "$ZOO_EPOCHS")
TRAIN_ARGS=()
[[ -n "${TINA_EPOCHS:-}" ]] && TRAIN_ARGS+=(--epochs "$TINA_EPOCHS")
OOD_TASKS="${ZOO_OOD:-150}"
CLASSES="${CLASSES:-apple, pear, orange, sweet pepper, mushroom}"

out="$TINA_ARTIFACTS/quickstart"
mkdir -p "$out"
start=$SECONDS

echo "== 1. datasets"
tina data list
echo "== 2. ML.NET's ResNet-18 over $DATASET (once; cached under $TINA_ARTIFACTS/features)"
tina features --dataset "$DATASET"
echo "== 3. stage 1: the generic $ARCH head on all 100 classes (reused if already trained)"
tina generic train --dataset "$DATASET" --arch $ARCH
echo "== 4. stage 2: a zoo of fine-tuned heads, recipe $RECIPE ${ZOO_ARGS[*]} (resumes if interrupted)"
tina zoo build --dataset "$DATASET" --recipe $RECIPE "${ZOO_ARGS[@]}" --out "$out/zoo"
echo "== 5. stage 3: Tina trained on the zoo with the zoo's recipe ${TRAIN_ARGS[*]} (resumes if interrupted)"
tina train --zoo "$out/zoo" "${TRAIN_ARGS[@]}" --out "$out/tina"
echo "== 6. Tina generates a classifier for: $CLASSES"
tina generate --generator "$out/tina" --prompt "$CLASSES" --out "$out/classifier.onnx" --mlnet "$out/classifier.zip"
echo "== 7. real CIFAR-100 test images of those classes, predicted through ML.NET's PredictionEngine"
rm -rf "$out/images"
tina data images --dataset cifar100 --classes "$CLASSES" --per-class 2 --out "$out/images"
tina predict --model "$out/classifier.zip" --image "$out"/images/*.png
echo "== 8. p-Acc on the zoo's held-out (OOD) class lists, never seen in training: generic, classifier selection, fine-tuned, TAPER-Mixer, Tina"
tina eval --dataset "$DATASET" --arch $ARCH --zoo "$out/zoo" --tasks "$OOD_TASKS" --methods generic,classifier-selection,finetune,taper-mixer,tina \
  --generator "$out/tina" --json "$out/eval.json"
echo "== 9. photos from another source: Caltech-101's photos of the classes it shares with CIFAR-100, on 150 random lists of 2-10 of them"
tina eval --dataset "$DATASET" --arch $ARCH --zoo "$out/zoo" --cross-dataset caltech101 --tasks 150 --methods generic,classifier-selection,taper-mixer,tina \
  --generator "$out/tina" --json "$out/eval-caltech101.json"
echo "quickstart: done in $((SECONDS - start)) s (after the build)"
