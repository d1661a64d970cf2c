#!/usr/bin/env bash
# What the tests need beyond Python packages, installed from the package registries.
# Debian's Chromium drives the Prefect UI test (Playwright's own browser download does not work here);
# Debian's PostgreSQL backs the Prefect server of the multi-machine test (tests/deployments).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's ${missing[*]} for the browser and deployment tests..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "warning: ${missing[*]} missing and cannot be installed here; the tests that need them will be skipped" >&2
fi
