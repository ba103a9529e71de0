#!/usr/bin/env bash
# Install everything Percept needs into .venv: Debian packages where this machine allows, then the Python package.
# Usage: scripts/install.sh [extras]   (extras default to "all,test")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-all,test}"

# Debian packages: Tesseract 5 with English, German and French packs plus orientation data; libGL for OpenCV
# (RapidOCR's wheel depends on the non-headless OpenCV build).
debs=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-deu tesseract-ocr-fra libgl1 libglib2.0-0)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif ! command -v tesseract >/dev/null 2>&1; then
    echo "install.sh: cannot install ${missing[*]} here." >&2
    echo "Install Tesseract 5 with your package manager (brew install tesseract, dnf install tesseract ...)" >&2
    echo "or set PERCEPT_TESSERACT_CMD to its path, then run this again." >&2
    exit 1
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${extras}]"
# Azurite (the Azure Storage emulator, from the npm registry) for the custom-model tests: training reads blob
# containers by SAS URL. Skipped where there is no npm; those tests then skip.
if command -v npm >/dev/null 2>&1 && [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
  npm install --silent --no-audit --no-fund --prefix .tools azurite@3 >/dev/null
fi
echo "install.sh: ready ($(.venv/bin/percept --version), $(tesseract --version 2>&1 | head -1))"
