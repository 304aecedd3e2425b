#!/usr/bin/env bash
# Every set-up step on a fresh Debian machine: the system packages the engine
# builds against, the Python build and test tools, then noexpp itself (pip).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
# openssl: the command line, with which tests_py/test_tls.py makes its CA and certificates.
$sudo_cmd apt-get install -y -qq --no-install-recommends \
  g++ cmake ninja-build pkg-config ccache \
  libasio-dev libmsgpack-cxx-dev libspdlog-dev libssl-dev libgtest-dev \
  openssl \
  clang-14 libclang-rt-14-dev libfuzzer-14-dev >/dev/null  # clang and libFuzzer: the fuzz preset

# ccache keeps its cache outside the clone, so a fresh clone rebuilds cheaply.
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/noexpp-ccache}"
# Paths inside the clone are hashed relative to it, so a clone at another
# path hits the same cache entries (debug builds hash the directory).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
  "scikit-build-core>=0.8" "pybind11>=2.12" "pytest>=7" "pytest-timeout>=2" \
  "ruff==0.17.6" "mypy==2.4.1"  # pinned: a new release must not fail CI by itself
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
  --no-build-isolation .
echo "noexpp installed: $(python3 -c 'import noexpp; print(noexpp.__version__)')"
