#!/usr/bin/env bash
# iproute2 (ip netns, veth, bridge) and nftables for test/netns-isolation.e2e.test.ts, from
# Debian's packages. Idempotent; needs root (the test skips without it).
set -euo pipefail
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v nft >/dev/null || missing+=(nftables)
if ((${#missing[@]})); then
  echo "[install-netns-tools] installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get install -y -qq "${missing[@]}" >/dev/null || { timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
echo "[install-netns-tools] $(ip -V) / $(nft --version)" >&2
