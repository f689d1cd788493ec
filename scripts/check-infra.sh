#!/usr/bin/env bash
# Offline proof of the AWS infrastructure (SST has no dry run; test/infra.test.ts checks the wiring):
#  1. `sst install` fetches SST's platform and the AWS provider types into .sst/ (npm only, no AWS
#     account, no Bun, no telemetry). The stage is required but nothing is deployed to it.
#  2. tsc type-checks sst.config.ts against SST's real component types (tsconfig.sst.json).
#  3. The check has teeth: a copy of the config with a misspelt option must fail to type-check.
set -euo pipefail
cd "$(dirname "$0")/.."

export SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1

npx sst version
npx sst install --stage ci

npx tsc -p tsconfig.sst.json
echo "sst.config.ts type-checks against .sst/platform"

probe=.sst/check-infra
rm -rf "$probe" && mkdir -p "$probe"
sed -e 's#path="./.sst/platform/config.d.ts"#path="../platform/config.d.ts"#' \
  -e 's/versioning: true,/versionning: true,/' sst.config.ts >"$probe/sst.config.ts"
grep -q "versionning: true," "$probe/sst.config.ts"
cat >"$probe/tsconfig.json" <<'JSON'
{
  "extends": "../../tsconfig.sst.json",
  "include": ["sst.config.ts", "../../sst-env.d.ts", "../platform/config.d.ts"]
}
JSON
if npx tsc -p "$probe/tsconfig.json" >"$probe/tsc.log" 2>&1; then
  echo "FAIL: a misspelt Bucket option (versionning) type-checked: SST's types are not being applied" >&2
  exit 1
fi
grep -q "'versionning' does not exist in type 'BucketArgs'" "$probe/tsc.log" || {
  echo "FAIL: the misspelt option failed for another reason:" >&2
  cat "$probe/tsc.log" >&2
  exit 1
}
echo "a misspelt option is rejected: $(grep -o "error TS[0-9]*: .*BucketArgs'" "$probe/tsc.log" | head -n 1)"
rm -rf "$probe"
