#!/usr/bin/env bash
# wrk, the HTTP load tool of the content benchmark (bench/content.py), from Debian.
set -eu
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The content benchmark needs wrk (install it with apt-get as root)" >&2
  exit 1
fi
echo "Installing wrk for the content benchmark"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
