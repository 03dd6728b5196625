#!/usr/bin/env bash
# Fetches Debian's linux-source-6.12 and unpacks it into a cache outside the repo.
# Prints the path of the unpacked tree. Idempotent: an unpacked tree is reused.
#   GFP_LENS_KERNEL_CACHE  where to unpack (default ~/.cache/gfp-lens)
set -euo pipefail
cache="${GFP_LENS_KERNEL_CACHE:-$HOME/.cache/gfp-lens}"
tree="$cache/linux-source-6.12"
if [ -f "$tree/Makefile" ] && [ -d "$tree/include/linux" ]; then
  echo "$tree"
  exit 0
fi
tarball=/usr/src/linux-source-6.12.tar.xz
if [ ! -f "$tarball" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-source-6.12 >&2
fi
mkdir -p "$cache"
tar -C "$cache" -xf "$tarball"
echo "$tree"
