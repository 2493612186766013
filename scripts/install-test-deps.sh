#!/usr/bin/env bash
# What the test suite needs beyond Python packages: Debian's Chromium for the browser tests,
# poppler (pdftoppm) and fonts for reports. Installed when missing and running as root.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "Noto Naskh Arabic\|Noto Sans Arabic" || missing+=(fonts-noto-core)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (apt-get)"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "WARNING: missing ${missing[*]}; browser or report tests will be skipped" >&2
  fi
fi
