#!/usr/bin/env bash
# The test command: builds and runs every test, then prints one summary line "N passed, N failed".
#
# TorchSharp 0.107 frees Scalars (and unscoped temporary tensors) from the finalizer, possibly while libtorch still
# uses them ("Unknown scalar type", "alpha must not be a floating point number", ...). Product code is guarded at
# compile time (build/BannedSymbols.txt, tests/Tina.Tests/Runtime/ScalarLifetimeTests.cs); test code and TorchSharp's
# own internals are not. So when the first run fails with a TorchSharp native error, the suite runs once more and
# both results are printed; any other failure, or a second failure, fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
export TINA_DATA="${TINA_DATA:-$(cd .. && pwd)/shared/data}"

run() {
  local log=$1; shift
  dotnet test Tina.MLNet.sln -c Release -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
  return ${PIPESTATUS[0]}
}
summary() {
  local passed failed
  passed=$(grep -oE "Passed: +[0-9]+" "$1" | awk '{s+=$2} END {print s+0}')
  failed=$(grep -oE "Failed: +[0-9]+" "$1" | awk '{s+=$2} END {print s+0}')
  echo "tests: ${passed} passed, ${failed} failed"
}

log=$(mktemp)
run "$log" "$@"; rc=$?
if [ $rc -ne 0 ] && grep -q "TorchSharp.torch.CheckForErrors" "$log"; then
  echo "first run: $(summary "$log") — a TorchSharp native error occurred; running the suite once more"
  grep -E "^\s+Failed Tina" "$log" | sed 's/^/  first run: /'
  run "$log" "$@"; rc=$?
fi
summary "$log"
rm -f "$log"
exit $rc
