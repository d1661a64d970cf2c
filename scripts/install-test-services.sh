#!/usr/bin/env bash
# What the tests need beyond Python packages, installed from the package registries.
# Debian's Chromium drives the Prefect UI test (Playwright's own browser download does not work here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "warning: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped" >&2
fi
