#!/usr/bin/env bash
# Install everything Percept needs into .venv: Debian packages where this machine allows, then the Python package.
# Usage: scripts/install.sh [extras]   (extras default to "all,captions,test")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all,captions,test}"

# apt-get as root, or through sudo; fails (status 1) where neither is possible.
apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

# Debian packages: Tesseract 5 with English, German and French packs plus orientation data; libGL for OpenCV
# (RapidOCR's wheel depends on the non-headless OpenCV build); PostgreSQL's server binaries, from which the tests
# start a throwaway cluster (tests/postgres.py; the Debian service itself is not needed).
debs=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-deu tesseract-ocr-fra libgl1 libglib2.0-0
  postgresql)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ] && ! apt_install "${missing[@]}" && ! command -v tesseract >/dev/null 2>&1; then
  echo "install.sh: cannot install ${missing[*]} here." >&2
  echo "Install Tesseract 5 with your package manager (brew install tesseract, dnf install tesseract ...)" >&2
  echo "or set PERCEPT_TESSERACT_CMD to its path, then run this again." >&2
  exit 1
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The captions extra needs torch: take the CPU build (pip finds 2.13.0 on these machines' disk) before anything
# asks for a torch range that would pull a CUDA build of several GB.
case ",${extras}," in
  *,captions,*) .venv/bin/python -c "import torch" 2>/dev/null ||
    .venv/bin/python -m pip install -q torch==2.13.0 ;;
esac
.venv/bin/python -m pip install -q -e ".[${extras}]"
# Azurite (the Azure Storage emulator, from the npm registry) for the custom-model tests: training reads blob
# containers by SAS URL. npm comes from apt where this machine allows. Without npm the Azurite tests skip, except
# under CI=true, where a missing test dependency is an error: CI must not go green with suites unrun.
ci=false
case "${CI:-}" in true | TRUE | True | 1 | yes) ci=true ;; esac
if [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
  # Debian ships npm as its own package; NodeSource's nodejs bundles it (and conflicts with Debian's npm).
  command -v node >/dev/null 2>&1 || apt_install nodejs || true
  command -v npm >/dev/null 2>&1 || apt_install npm || true
  if command -v npm >/dev/null 2>&1; then
    npm install --silent --no-audit --no-fund --prefix .tools azurite@3 >/dev/null
  elif [ "$ci" = true ]; then
    echo "install.sh: CI=true and npm is missing, so Azurite (needed by the custom-model tests) cannot be" >&2
    echo "installed. Install nodejs and npm (apt-get install nodejs npm), then run this again." >&2
    exit 1
  else
    echo "install.sh: npm is missing: Azurite is not installed and the custom-model tests will skip." >&2
  fi
fi
if [ "$ci" = true ] && [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
  echo "install.sh: CI=true and Azurite did not install into .tools (npm install azurite@3 failed)." >&2
  exit 1
fi
echo "install.sh: ready ($(.venv/bin/percept --version), $(tesseract --version 2>&1 | head -1))"
