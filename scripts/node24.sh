#!/usr/bin/env bash
# Prints the bin/ folder of a Node.js 24 LTS. The machine's own node when it is 24 or newer;
# otherwise Node 24 from the npm registry's node-linux-<arch> package (the official binary, no other
# server needed), unpacked once into a cache folder. Use it as: export PATH="$(scripts/node24.sh):$PATH"
set -euo pipefail
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -ge 24 ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node24.sh: no node-linux package for $(uname -m); install Node.js 24 yourself" >&2; exit 1 ;;
esac
cache="${SEEDTEST_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/seedtest/node24-$arch}"
if [ ! -x "$cache/package/bin/node" ]; then
  echo "node24.sh: fetching Node.js 24 (npm package node-linux-$arch@24) into $cache" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@24" >/dev/null)
  rm -rf "$cache.partial"
  mkdir -p "$cache.partial"
  tar xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$cache.partial"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
fi
echo "$cache/package/bin"
