#!/usr/bin/env bash
# The installed command's JIT choices against the same launcher without them, in one run. The launcher
# (1) starts C2 at ten times its usual thresholds (-XX:Tier4*Threshold) and (2) runs most commands
# with C1 alone on one compiler thread (-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 and the
# -Dpiimage.jit=quick mark), a bake that makes keys running itself again with both compilers. Variants: "defaults" (neither), "C2 late" (1 only) and
# "as shipped" (1 and 2). Times a re-bake of examples/makina.yaml, a re-bake of a 100-node plan and a
# first bake of makina with each, each with its own per-user cache (class-data archive, or Java 25's
# ahead-of-time cache) made by a warm-up bake first. Medians from hyperfine, in bench/results/jit.json;
# a README-ready table on stdout. RUNS (default 9). Needs: hyperfine, a JDK 17+ and Maven to build the
# tarball if it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-9}"
work="$(mktemp -d "${TMPDIR:-/tmp}/piimage-bench-jit.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="$root/bench/results"
mkdir -p "$results"
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[[ -z "${PIIMAGE:-}" ]] || { echo "bench/jit.sh times the tarball's launcher; unset PIIMAGE" >&2; exit 2; }

# shellcheck source=bench/installed.sh
source "$root/bench/installed.sh"
flags='-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000'
grep -qF -- "$flags" "$piimage" || { echo "bench: $piimage does not carry the JIT flags this bench compares" >&2; exit 1; }
# The launcher's C1-only words, as they appear in it (matched literally, never expanded here).
# shellcheck disable=SC2016
c1_words='"$c1_only" "$c1_threads" "$c1_mark" '
grep -qF -- "$c1_words" "$piimage" || { echo "bench: $piimage does not run C1 alone" >&2; exit 1; }
variant_of() { # variant_of NAME DROP...: a copy of the unpacked release whose launcher lacks each DROP string
  local name="$1" launcher drop
  shift
  mkdir -p "$work/$name"
  cp -a "$(dirname "$(dirname "$piimage")")/." "$work/$name/"
  launcher="$work/$name/bin/piimage"
  for drop in "$@"; do
    python3 - "$launcher" "$drop" <<'PY'
import sys
path, drop = sys.argv[1], sys.argv[2]
text = open(path).read()
open(path, "w").write(text.replace(drop, ""))
PY
    ! grep -qF -- "$drop" "$launcher" || { echo "bench: could not take '$drop' out of $launcher" >&2; exit 1; }
  done
  echo "$launcher"
}
late="$(variant_of c2-late "$c1_words")"
defaults="$(variant_of defaults "$c1_words" "$flags ")"

key="$(ssh-keygen -q -t ed25519 -N '' -f "$work/key" >/dev/null && cut -d' ' -f1,2 "$work/key.pub")"
"$root/bench/plan100.sh" "$key" >"$work/plan100.yaml"

args=()
for variant in defaults c2-late shipped; do
  case "$variant" in
    defaults) launcher="$defaults" label="with the JVM's defaults" ;;
    c2-late) launcher="$late" label="C2 late" ;;
    shipped) launcher="$piimage" label="as shipped (C2 late, C1 alone unless keys are made)" ;;
  esac
  run="env XDG_CACHE_HOME=$work/cache-$variant $launcher"
  mkdir -p "$work/$variant" "$work/first-$variant"
  cp "$root/examples/makina.yaml" "$work/$variant/makina.yaml"
  cp "$root/examples/makina.yaml" "$work/first-$variant/makina.yaml"
  $run bake -q "$work/$variant/makina.yaml" -o "$work/$variant/out" 2>/dev/null   # warm-up: the cache
  $run bake -q "$work/plan100.yaml" -o "$work/out100-$variant" 2>/dev/null
  args+=(-n "re-bake of makina, $label" --prepare true "$run bake -q $work/$variant/makina.yaml -o $work/$variant/out")
  args+=(-n "re-bake of a 100-node plan, $label" --prepare true "$run bake -q $work/plan100.yaml -o $work/out100-$variant")
  args+=(-n "first bake of makina, $label" --prepare "rm -rf $work/first-$variant/makina.secrets $work/first-$variant/out"
    "$run bake -q $work/first-$variant/makina.yaml -o $work/first-$variant/out")
done
hyperfine -N --style basic --warmup 2 --runs "$runs" --export-json "$results/jit.json" "${args[@]}" >&2
"$root/bench/table.py" "$results/jit.json"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
