#!/usr/bin/env bash
# Check the import-linter contracts of pyproject.toml ([tool.importlinter]).
#
# import-linter (grimp) finds a package's modules by walking its folder, but flows/, classifiers/ and
# deployments/ install as wirestance.flows, wirestance.classifiers and wirestance.deployments through
# setuptools' package-dir mapping, outside wirestance/. So the check runs on a copy of the tree laid out
# as the wheel installs it, put first on the import path.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cp -r wirestance "$tree/wirestance"
for package in flows classifiers deployments; do
  cp -r "$package" "$tree/wirestance/$package"
done
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
repo=$PWD
cd "$tree"   # import-linter puts the working directory first on the import path
PYTHONPATH="$tree" "$repo/.venv/bin/lint-imports" --no-cache "$@" "$repo/pyproject.toml"
