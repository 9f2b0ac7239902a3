#!/usr/bin/env bash
# Issue "Any words": does a CLIP-style template ("a photo of a TEXT.") help MiniLM? Writes the class-text files for
# names, descriptions and synonyms, then trains the recipe's generator on the two validation zoos with templated names
# and scores text-to-rows and Tina on validation images (docs/RESULTS.md, "Rows generated from their text-to-rows
# start"). Needs artifacts/tune18 (its generic model and the zoos valzoo and valzoo-unseen, commands in RESULTS).
# Usage: scripts/prompt-template.sh [TINA_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
tina="${1:-src/Tina.Cli/bin/Release/net10.0/linux-x64/Tina.Cli}"
export TINA_ARTIFACTS="${TINA_ARTIFACTS:-artifacts/tune18}"
p="$TINA_ARTIFACTS/prompts"
mkdir -p "$p"
grep -v '^#' data/prompts/cifar100-synonyms.tsv | cut -f1 | awk '{printf "%s\ta photo of a %s.\n", $0, $0}' > "$p/photo.tsv"
tail -n +2 data/descriptions/cifar100.tsv | awk -F'\t' '{printf "%s\ta photo of a %s.\n", $1, $3}' > "$p/photo-desc.tsv"
grep -v '^#' data/prompts/cifar100-synonyms.tsv | awk -F'\t' '{printf "%s\ta photo of a %s.\n", $1, $2}' > "$p/photo-syn.tsv"
a="$TINA_ARTIFACTS"
"$tina" train --zoo "$a/valzoo-unseen" --class-texts "$p/photo.tsv" --out "$a/valtina-u-photo"
"$tina" eval --arch resnet18 --zoo "$a/valzoo-unseen" --tasks 150 --methods text-to-rows,tina --class-texts "$p/photo.tsv" \
  --generator "$a/valtina-u-photo" --json "$a/eval-u-photo.json"
"$tina" train --zoo "$a/valzoo" --class-texts "$p/photo.tsv" --out "$a/valtina-s-photo"
for k in photo photo-desc photo-syn; do
  "$tina" eval --arch resnet18 --zoo "$a/valzoo" --tasks 100 --methods text-to-rows,tina --class-texts "$p/$k.tsv" \
    --generator "$a/valtina-s-photo" --json "$a/eval-s-$k.json"
done
