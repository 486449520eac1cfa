#!/usr/bin/env bash
# What a user of the published package gets: `npm pack`, then `npm install -g` of that tarball into a throwaway
# prefix, then the installed `netdbg` runs its version, its help and the demo from a directory outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/netdbg-*.tgz)
npm install -g --prefix "$work/global" "$tarball" --no-audit --no-fund --loglevel=error >/dev/null
bin="$work/global/bin/netdbg"
want=$(node -p 'require("./package.json").version')
got=$("$bin" --version)
[ "$got" = "$want" ] || { echo "installed netdbg says version '$got', package.json '$want'" >&2; exit 1; }
"$bin" --help >/dev/null
# the docs the errors point at are in the package
[ -f "$work/global/lib/node_modules/netdbg/docs/errors/NETDBG-E100.md" ] || { echo "docs/errors missing from the package" >&2; exit 1; }
if ! (cd "$work" && NETDBG_HOME="$work/state" "$bin" demo >"$work/demo.log" 2>&1); then
  cat "$work/demo.log" >&2
  echo "the installed netdbg's demo failed" >&2
  exit 1
fi
echo "packaged install: netdbg $got from $(basename "$tarball") runs --version, --help and the demo"
