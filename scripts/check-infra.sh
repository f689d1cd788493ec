#!/usr/bin/env bash
# Offline proof of the AWS infrastructure (SST has no dry run; test/infra.test.ts checks the wiring):
#  1. `sst install` fetches SST's platform and the AWS provider types into .sst/ (npm only, no AWS
#     account, no Bun, no telemetry). The stage is required but nothing is deployed to it. To read the
#     app's providers it bundles sst.config.ts with esbuild as every SST command does, infra/ included.
#  2. That bundle holds only the config, infra/ and @imvault/im-core/constants: nothing from
#     node_modules, none of the library (what infra/ imports is evaluated at every deploy).
#  3. tsc type-checks sst.config.ts and infra/ against SST's real component types (tsconfig.sst.json).
#  4. The check has teeth: a copy of the config with a misspelt option must fail to type-check.
set -euo pipefail
cd "$(dirname "$0")/.."

export SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1

npx sst version
rm -f .sst/esbuild.json
npx sst install --stage ci

# .sst/esbuild.json is esbuild's analysis of that bundle: one "├ <input> ─ <size>" line per input.
inputs=$(grep -o '[├└] [^ ]* ─' .sst/esbuild.json | cut -d' ' -f2 | sort -u)
unexpected=$(grep -v -x -E 'eval\.ts|<define:[^>]*>|sst\.config\.ts|infra/[a-z-]+\.ts|packages/im-core/src/(constants|im/types|schemas/limits)\.ts' <<<"$inputs" || true)
grep -q -x "infra/settings.ts" <<<"$inputs" || {
  echo "FAIL: SST's bundle of sst.config.ts does not list infra/settings.ts:" >&2
  cat .sst/esbuild.json >&2
  exit 1
}
if [ -n "$unexpected" ]; then
  echo "FAIL: SST's bundle of sst.config.ts pulls in more than the config, infra/ and im-core/constants:" >&2
  echo "$unexpected" >&2
  exit 1
fi
echo "SST bundles sst.config.ts with: $(tr '\n' ' ' <<<"$inputs")"

npx tsc -p tsconfig.sst.json
echo "sst.config.ts and infra/ type-check against .sst/platform"

probe=.sst/check-infra
rm -rf "$probe" && mkdir -p "$probe"
sed -e 's#path="./.sst/platform/config.d.ts"#path="../platform/config.d.ts"#' sst.config.ts >"$probe/sst.config.ts"
cp -R infra "$probe/infra"
sed -e 's/versioning: true,/versionning: true,/' infra/storage.ts >"$probe/infra/storage.ts"
grep -q "versionning: true," "$probe/infra/storage.ts"
cat >"$probe/tsconfig.json" <<'JSON'
{
  "extends": "../../tsconfig.sst.json",
  "include": ["sst.config.ts", "infra", "../../sst-env.d.ts", "../platform/config.d.ts"]
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
