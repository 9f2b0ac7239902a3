#!/usr/bin/env bash
# The main job at a small scale, from a fresh clone: data → generic model → p-Acc of the baselines →
# a personalized classifier for a class list as ONNX + ML.NET zip → predictions on real images.
# Artifacts go to ./artifacts (or $TINA_ARTIFACTS); a second run reuses the trained model and caches.
set -euo pipefail
cd "$(dirname "$0")/.."
export TINA_DATA="${TINA_DATA:-$(cd .. && pwd)/shared/data}"
export TINA_ARTIFACTS="${TINA_ARTIFACTS:-$(pwd)/artifacts}"
EPOCHS="${EPOCHS:-20}"
CLASSES="${CLASSES:-apple, pear, orange, sweet pepper, mushroom}"

dotnet build src/Tina.Cli -c Release -nologo -v q
tina() { src/Tina.Cli/bin/Release/net10.0/linux-x64/Tina.Cli "$@"; }
out="$TINA_ARTIFACTS/quickstart"
mkdir -p "$out"

echo "== 1. datasets"
tina data list
echo "== 2. stage 1: generic CNN-5K on CIFAR-100 (reused if already trained)"
tina generic train --dataset cifar100 --arch cnn5k --epochs "$EPOCHS"
echo "== 3. p-Acc of the baselines over 100 random 10-class tasks"
tina eval --dataset cifar100 --arch cnn5k --methods generic,classifier-selection --tasks 100 --json "$out/eval.json"
echo "== 4. a classifier for: $CLASSES"
tina export --method classifier-selection --arch cnn5k --classes "$CLASSES" --out "$out/classifier.onnx" --mlnet "$out/classifier.zip"
echo "== 5. real CIFAR-100 test images of those classes, predicted through ML.NET's PredictionEngine"
rm -rf "$out/images"
tina data images --dataset cifar100 --classes "$CLASSES" --per-class 2 --out "$out/images"
tina predict --model "$out/classifier.zip" --image "$out"/images/*.png
