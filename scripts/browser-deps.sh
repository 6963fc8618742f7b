#!/usr/bin/env bash
# Debian's Chromium (driven by the playwright package) and a CJK font for real screenshots.
set -eu
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$need fonts-noto-cjk"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Browser tests need:$need (install them with apt-get as root)" >&2
  exit 1
fi
echo "Installing$need for the browser tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
