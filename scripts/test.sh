#!/usr/bin/env bash
# Set-up, then every test: the C++ engine tests (plain, ASan+UBSan, TSan)
# under ctest, a short libFuzzer run, then the Python tests under pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/noexpp-ccache}"
# Paths inside the clone are hashed relative to it, so a clone at another
# path hits the same cache entries (debug builds hash the directory).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
jobs="${NOEXPP_JOBS:-$(nproc)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

# The quick static checks first: a broken layer fails in seconds.
echo "== Layers, lint, types"
python3 scripts/check_layers.py
python3 -m ruff check python/noexpp
python3 -m mypy --strict python/noexpp

for preset in cpp-tests asan tsan; do
  echo "== C++ tests: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
done

# The fuzz targets on their seeds, briefly: a regression in the codecs or in
# the checks of incoming frames (about a minute, plus the clang build, which
# ccache makes cheap after the first run). Long runs: scripts/fuzz.sh long.
echo "== Fuzz (short)"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" NOEXPP_JOBS="$jobs" bash scripts/fuzz.sh short

echo "== Python tests"
# tests_py imports the installed package (python/ is not on the path).
python3 -m pytest -p no:cacheprovider tests_py
