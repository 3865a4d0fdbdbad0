#!/usr/bin/env bash
# Set up credflow on this machine: the Debian packages it needs (tesseract with English and
# orientation data; chromium too with --tests), and a virtualenv in .venv with credflow in it.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--tests" ] && with_tests=1

need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
[ -e /usr/share/tesseract-ocr/5/tessdata/osd.traineddata ] || \
  [ -e /usr/share/tesseract-ocr/4.00/tessdata/osd.traineddata ] || need+=(tesseract-ocr-osd)
# the fast OCR path (tesseract loaded in each worker through tesserocr) is built against
# Debian's libtesseract, so it reads exactly as the tesseract program does
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need+=(g++)
pkg-config --exists tesseract 2>/dev/null || need+=(libtesseract-dev)
pkg-config --exists lept 2>/dev/null || need+=(libleptonica-dev)
# a Unicode font for the PDFs credflow writes (summaries, committee packets)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "$with_tests" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: credflow needs the Debian packages: ${need[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: credflow needs Python 3.11 or newer ($python is $("$python" --version))" >&2
  exit 1
}
[ -x .venv/bin/python ] || "$python" -m venv .venv
extra=""
[ "$with_tests" = 1 ] && extra="[test]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extra}"
# tesserocr from source against the system tesseract (its wheels bundle another tesseract
# build, which reads differently); credflow falls back to the program if this fails
want=$(tesseract --version 2>&1 | head -1 | awk '{print $2}')
have=$(.venv/bin/python -c 'import tesserocr; print(tesserocr.tesseract_version().split()[1])' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  .venv/bin/python -m pip uninstall -q -y tesserocr >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q --no-binary tesserocr tesserocr >/dev/null \
    || echo "setup: tesserocr could not be built; OCR runs the tesseract program instead" >&2
fi
echo "setup: $(.venv/bin/python -m credflow.cli doctor 2>/dev/null || echo 'OCR engine: unknown')"
echo "setup: ready ($(tesseract --version 2>&1 | head -1), $(.venv/bin/python --version))"
