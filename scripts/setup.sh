#!/usr/bin/env bash
# Set-up on a fresh Debian 12 machine: system packages the tests need, then restore and build the solution.
#   python3-onnx   an independent onnx.checker for exported models (tests/Tina.Tests/Export)
#   wordnet-base   WordNet 3.0 (/usr/share/wordnet), from which data/descriptions/*.tsv are made; a test re-makes them
#   chromium, chromium-driver   a real browser for the playground test of tina serve (Selenium)
#   nodejs, npm + onnxruntime-node (tests/node)   the runtime an edge/Electron app uses, for the one-file classifier test
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
# -I: not from the current folder (the repository's onnx/ folder would otherwise import as an empty "onnx" package).
/usr/bin/python3 -I -c "import onnx.checker" 2>/dev/null || missing+=(python3-onnx)
[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
command -v chromium > /dev/null || missing+=(chromium)
command -v chromedriver > /dev/null || missing+=(chromium-driver)
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# onnxruntime-node as pinned by tests/node/package-lock.json (no install scripts: the CPU runtime is in the package).
[ -d tests/node/node_modules/onnxruntime-node ] || npm ci --prefix tests/node --ignore-scripts --no-audit --no-fund --loglevel=error
dotnet build Tina.MLNet.sln -c Release -nologo -v q
echo "setup: done"
