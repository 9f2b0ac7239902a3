#!/usr/bin/env bash
# Set-up on a fresh Debian 12 machine: system packages the tests need, then restore and build the solution.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import onnx" 2>/dev/null; then
  # python3-onnx gives the tests an independent onnx.checker for exported models.
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-onnx >/dev/null
fi
dotnet build Tina.MLNet.sln -c Release -nologo -v q
echo "setup: done"
