#!/usr/bin/env bash
# The test command: builds and runs every test, then prints one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export TINA_DATA="${TINA_DATA:-$(cd .. && pwd)/shared/data}"
log=$(mktemp)
dotnet test Tina.MLNet.sln -c Release -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -oE "Passed: +[0-9]+" "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE "Failed: +[0-9]+" "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
rm -f "$log"
exit $rc
