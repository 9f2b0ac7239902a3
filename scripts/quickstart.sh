#!/usr/bin/env bash
# The whole Tina pipeline at a small scale, from a fresh clone:
#   data → generic CNN-5K (stage 1) → a small p-Model zoo (stage 2) → Tina trained on it (stage 3)
#   → p-Acc of Tina against the baselines on the zoo's held-out tasks → a classifier generated for a class list
#   (ONNX + ML.NET zip) → predictions on real CIFAR-100 test images through ML.NET's PredictionEngine.
# Every stage is resumable and reused: a second run skips what is finished. Artifacts go to ./artifacts
# (or $TINA_ARTIFACTS). The sizes below are the small scale; docs/RESULTS.md has the full-scale commands.
set -euo pipefail
cd "$(dirname "$0")/.."
export TINA_DATA="${TINA_DATA:-$(cd .. && pwd)/shared/data}"
export TINA_ARTIFACTS="${TINA_ARTIFACTS:-$(pwd)/artifacts}"
GENERIC_EPOCHS="${GENERIC_EPOCHS:-10}"   # paper: 50
ZOO_TASKS="${ZOO_TASKS:-64}"             # paper: 1000 ID tasks
ZOO_OOD="${ZOO_OOD:-16}"                 # paper: 150 held-out tasks
ZOO_EPOCHS="${ZOO_EPOCHS:-5}"            # paper: 10 fine-tuning epochs per p-Model
TINA_EPOCHS="${TINA_EPOCHS:-150}"        # paper: 300-400
CLASSES="${CLASSES:-apple, pear, orange, sweet pepper, mushroom}"

dotnet build src/Tina.Cli -c Release -nologo -v q
tina() { src/Tina.Cli/bin/Release/net10.0/linux-x64/Tina.Cli "$@"; }
out="$TINA_ARTIFACTS/quickstart"
mkdir -p "$out"
start=$SECONDS

echo "== 1. datasets"
tina data list
echo "== 2. stage 1: generic CNN-5K on CIFAR-100 ($GENERIC_EPOCHS epochs; reused if already trained)"
tina generic train --dataset cifar100 --arch cnn5k --epochs "$GENERIC_EPOCHS"
echo "== 3. stage 2: a zoo of $ZOO_TASKS + $ZOO_OOD fine-tuned p-Models (resumes if interrupted)"
tina zoo build --arch cnn5k --tasks "$ZOO_TASKS" --ood "$ZOO_OOD" --epochs "$ZOO_EPOCHS" --out "$out/zoo"
echo "== 4. stage 3: Tina (small config, one token per 64 parameters) trained on the zoo (resumes if interrupted)"
tina train --zoo "$out/zoo" --config small --chunk-size 64 --lr 1e-3 --epochs "$TINA_EPOCHS" --out "$out/tina"
echo "== 5. p-Acc on the zoo's tasks: generic, classifier selection, fine-tuned p-Models and Tina (DDIM-50)"
tina eval --arch cnn5k --zoo "$out/zoo" --methods generic,classifier-selection,finetune,tina \
  --generator "$out/tina" --json "$out/eval.json"
echo "== 6. Tina generates a classifier for: $CLASSES"
tina generate --generator "$out/tina" --prompt "$CLASSES" --out "$out/classifier.onnx" --mlnet "$out/classifier.zip"
echo "== 7. real CIFAR-100 test images of those classes, predicted through ML.NET's PredictionEngine"
rm -rf "$out/images"
tina data images --dataset cifar100 --classes "$CLASSES" --per-class 2 --out "$out/images"
tina predict --model "$out/classifier.zip" --image "$out"/images/*.png
echo "quickstart: done in $((SECONDS - start)) s (after the build)"
