#!/usr/bin/env bash
# Why a first bake cannot be within twice cfssl's time while its keys come from the JDK's providers:
# times the six RSA-2048 keys of a first bake alone (bench/SixRsaKeys.java: the JDK's KeyPairGenerator,
# two threads, fixed seeds so every run does the same prime search) in a fresh JVM, with the launchers'
# JIT flags, with the JVM's defaults and with C1 alone, against `cfssl gencert -initca` x3 in the same
# run. No piimage code runs: this is the floor under a first bake. Medians from hyperfine; a
# README-ready table on stdout. RUNS (default 9). Needs: hyperfine golang-cfssl (apt), a JDK 17+.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-9}"
work="$(mktemp -d "${TMPDIR:-/tmp}/piimage-bench-keygen.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="$root/bench/results"
mkdir -p "$results"
for tool in hyperfine cfssl; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install hyperfine golang-cfssl)" >&2; exit 1; }
done
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
"$javac" -d "$work/classes" "$root/bench/SixRsaKeys.java"

# The launchers' flags (src/dist/piimage), without the class-data archive: this is the JDK's own code.
base="-XX:+UseSerialGC -Xms32m -Xmx256m -Xss1m"
late="-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
grep -qF -- "$late" "$root/src/dist/piimage" || { echo "bench: the launcher's JIT flags changed; update $0" >&2; exit 1; }

# shellcheck source=bench/cfssl.sh
source "$root/bench/cfssl.sh"
cfssl="$(cfssl_three_cas "$work")"

hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$results/keygen.json" \
  -n "cfssl gencert -initca x3 (3 CA keys)" "$cfssl" \
  -n "6 RSA-2048 keys, JDK provider, the launchers' JIT flags (what a first bake's rerun has)" \
     "$java $base $late -cp $work/classes SixRsaKeys" \
  -n "6 RSA-2048 keys, JDK provider, the JVM's default JIT" "$java $base -cp $work/classes SixRsaKeys" \
  -n "6 RSA-2048 keys, JDK provider, C1 alone" "$java $base -XX:TieredStopAtLevel=1 -cp $work/classes SixRsaKeys" >&2
"$root/bench/table.py" "$results/keygen.json"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); java: $("$java" -version 2>&1 | head -1)"
