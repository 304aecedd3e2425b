#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan+UBSan) and
# runs each one on a scratch copy of its seed corpus (fuzz/corpus/<target>),
# so runs never modify the committed seeds.
#   scripts/fuzz.sh short        CI: about 25 s per target (-max_total_time)
#   scripts/fuzz.sh long [runs]  a long run: `runs` executions per target
#                                (-runs=, default 10000000)
# Exits non-zero when a target crashes, leaks, trips a sanitizer or times
# out; the reproducer is kept in build/fuzz-artifacts/<target>/ (rerun it
# with build/fuzz/fuzz/<target> <file>). FUZZ_TARGETS picks targets.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-short}"
case "$mode" in
  short) limit=(-max_total_time="${FUZZ_SECONDS:-25}") ;;
  long) limit=(-runs="${2:-10000000}") ;;
  *) echo "usage: $0 short | long [runs]" >&2; exit 2 ;;
esac
targets=(${FUZZ_TARGETS:-fuzz_term_codec fuzz_frame fuzz_frame_validation fuzz_handshake})

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/noexpp-ccache}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${NOEXPP_JOBS:-2}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
  echo "== fuzz $t ($mode: ${limit[*]})"
  cp -r "fuzz/corpus/$t" "$work/$t"
  artifacts="build/fuzz-artifacts/$t"
  mkdir -p "$artifacts"
  # One process, one job (the machine is shared); -timeout: a slow input
  # (over 10 s) is a finding too; -rss_limit_mb: memory a frame makes the
  # decoder take is bounded.
  if ! "build/fuzz/fuzz/$t" "${limit[@]}" -dict=fuzz/msgpack.dict -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/$t" >"build/fuzz-artifacts/$t.log" 2>&1; then
    tail -n 60 "build/fuzz-artifacts/$t.log"
    echo "!! $t failed; reproducer in $artifacts/" >&2
    failed=1
  else
    grep -E "^stat::number_of_executed_units|^Done" "build/fuzz-artifacts/$t.log" || true
  fi
done
exit "$failed"
