#!/usr/bin/env bash
# The test command: builds and runs every test, then prints one summary line "N passed, N failed".
#
# Known problem: TorchSharp 0.107 occasionally fails inside native code ("Unknown scalar type", "Expected false to be
# true", "alpha must not be a floating point number") — a use-after-free we have not pinned down yet (see the issue
# notes). When the first run fails with such a TorchSharp native error, the suite is run once more and both results are
# printed; any other failure, or a second failure, fails the run.
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
