# Sourced by the scripts that run the tina CLI (quickstart, studies, other-datasets): the repository root as the working
# folder, the TINA_DATA and TINA_ARTIFACTS defaults, a Release build of tina, and a tina() function that runs it.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TINA_DATA="${TINA_DATA:-$(cd .. && pwd)/shared/data}"
export TINA_ARTIFACTS="${TINA_ARTIFACTS:-$(pwd)/artifacts}"
dotnet build src/Tina.Cli -c Release -nologo -v q
tina() { src/Tina.Cli/bin/Release/net10.0/linux-x64/Tina.Cli "$@"; }
