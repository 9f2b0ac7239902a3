#!/usr/bin/env bash
# The whole Tina pipeline at a small scale, from a fresh clone:
#   data → generic ResNet-20 (stage 1) → a zoo of fine-tuned classifier heads (stage 2) → Tina trained on it (stage 3)
#   → p-Acc of Tina against the baselines on the zoo's held-out tasks → a classifier generated for a class list
#   (ONNX + ML.NET zip) → predictions on real CIFAR-100 test images through ML.NET's PredictionEngine.
# Every stage is resumable and reused: a second run skips what is finished. Artifacts go to ./artifacts
# (or $TINA_ARTIFACTS). The sizes below are the small scale; docs/RESULTS.md has the full-scale commands.
set -euo pipefail
source "$(dirname "$0")/tina-env.sh"
# ResNet-20 heads, not CNN-5K: a CNN-5K zoo (5 p-Models/min here) and its generator take hours on 2 cores, while
# 1,000 ResNet-20 heads take a minute (docs/RESULTS.md).
ARCH=resnet20
GENERIC_EPOCHS="${GENERIC_EPOCHS:-3}"    # paper: 50 (the generic model is reused if one exists)
ZOO_TASKS="${ZOO_TASKS:-1000}"           # paper: 1000 ID tasks
ZOO_OOD="${ZOO_OOD:-150}"                # paper: 150 held-out tasks
ZOO_CLASSES="${ZOO_CLASSES:-2-10}"       # every prompt length from 2 to 10 classes, equally often (paper: 10)
ZOO_EPOCHS="${ZOO_EPOCHS:-10}"           # paper: 10 (tina zoo tune's winner for heads, 30, adds 0.3 points; 10 keeps this under 15 min)
TINA_EPOCHS="${TINA_EPOCHS:-30}"         # paper: 300-400
TINA_TOKENS="${TINA_TOKENS:-shared}"     # one token per class (row + bias + text), docs/RESULTS.md
CLASSES="${CLASSES:-apple, pear, orange, sweet pepper, mushroom}"

out="$TINA_ARTIFACTS/quickstart"
mkdir -p "$out"
start=$SECONDS

echo "== 1. datasets"
tina data list
echo "== 2. stage 1: generic $ARCH on CIFAR-100 ($GENERIC_EPOCHS epochs; reused if already trained)"
tina generic train --dataset cifar100 --arch $ARCH --epochs "$GENERIC_EPOCHS"
echo "== 3. stage 2: a zoo of $ZOO_TASKS + $ZOO_OOD fine-tuned p-Models of $ZOO_CLASSES classes (resumes if interrupted)"
tina zoo build --arch $ARCH --tasks "$ZOO_TASKS" --ood "$ZOO_OOD" --classes "$ZOO_CLASSES" --epochs "$ZOO_EPOCHS" --out "$out/zoo"
echo "== 4. stage 3: Tina (small config) trained on the zoo (resumes if interrupted)"
tina train --zoo "$out/zoo" --config small --classifier-tokens "$TINA_TOKENS" --batch-size 16 --lr 1e-3 --epochs "$TINA_EPOCHS" --out "$out/tina"
echo "== 5. Tina generates a classifier for: $CLASSES"
tina generate --generator "$out/tina" --prompt "$CLASSES" --out "$out/classifier.onnx" --mlnet "$out/classifier.zip"
echo "== 6. real CIFAR-100 test images of those classes, predicted through ML.NET's PredictionEngine"
rm -rf "$out/images"
tina data images --dataset cifar100 --classes "$CLASSES" --per-class 2 --out "$out/images"
tina predict --model "$out/classifier.zip" --image "$out"/images/*.png
echo "== 7. p-Acc on the zoo's held-out (OOD) class lists, never seen in training: generic, classifier selection, fine-tuned, TAPER-Mixer, Tina (DDIM-50)"
tina eval --arch $ARCH --zoo "$out/zoo" --tasks "$ZOO_OOD" --methods generic,classifier-selection,finetune,taper-mixer,tina \
  --generator "$out/tina" --json "$out/eval.json"
echo "quickstart: done in $((SECONDS - start)) s (after the build)"
