#!/usr/bin/env bash
# Benchmarks whole `piimage bake` processes (JVM start included) with the installed command: by default
# the release tarball (mvn package builds it), unpacked into a temporary directory and run from there
# with its own per-user cache, as a user who installed it runs it; PIIMAGE=/usr/bin/piimage times the
# .deb's command instead. Compared in the same run (the machine may be shared, so only figures from
# one run compare):
#   1. piimage's first bake of examples/makina.yaml (a new cluster: 3 CAs, the SA key, 2 client
#      certificates, RSA-2048, and every node's SSH host keys) against `cfssl gencert -initca` x3,
#      making the same three CAs;
#   2. a re-bake of makina (its secrets exist: the usual bake);
#   3. a re-bake of a generated 100-node plan.
# The class-data archive the launcher makes on a user's first bake is made before timing (a warm-up
# bake), as it is for every bake after a user's first. Medians from hyperfine; peak RSS (max over runs)
# from GNU time. Results in bench/results/; a README-ready table on stdout. RUNS (default 10).
# Needs: hyperfine golang-cfssl time (apt), a JDK 17+ and Maven to build the tarball if it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-10}"
work="$(mktemp -d "${TMPDIR:-/tmp}/piimage-bench-bake.XXXXXX")"
trap 'rm -rf "$work"' EXIT
results="$root/bench/results"
mkdir -p "$results"

for tool in hyperfine cfssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install hyperfine golang-cfssl time)" >&2; exit 1; }
done

# shellcheck source=bench/installed.sh
source "$root/bench/installed.sh"

key="$(ssh-keygen -q -t ed25519 -N '' -f "$work/key" >/dev/null && cut -d' ' -f1,2 "$work/key.pub" || echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBenchBe')"

"$root/bench/plan100.sh" "$key" >"$work/plan100.yaml"

cat >"$work/one.yaml" <<PLAN
apiVersion: piimage/v1
cluster: {name: one, kubernetesVersion: "1.31"}
endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}
network: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}
os: {sshAuthorizedKeys: ["$key"]}
nodes:
  - {name: cp1, role: control-plane, address: 10.30.0.11}
PLAN

cp "$root/examples/makina.yaml" "$work/makina.yaml"
mkdir -p "$work/first"
cp "$root/examples/makina.yaml" "$work/first/makina.yaml"
"$piimage" bake -q "$work/makina.yaml" -o "$work/out-makina" 2>/dev/null   # warm-up: makes the class-data archive
"$piimage" bake -q "$work/plan100.yaml" -o "$work/out-100" 2>/dev/null

# shellcheck source=bench/cfssl.sh
source "$root/bench/cfssl.sh"
cfssl="$(cfssl_three_cas "$work")"

hyperfine -N --style basic --warmup 2 --runs "$runs" --export-json "$results/bake.json" \
  -n "piimage first bake of makina (new cluster: 3 CAs, SA key, 2 client certs, host keys)" \
     --prepare "rm -rf $work/first/makina.secrets $work/first/out" "$piimage bake -q $work/first/makina.yaml -o $work/first/out" \
  -n "cfssl gencert -initca x3 (the same 3 CAs)" --prepare true "$cfssl" \
  -n "piimage re-bake of makina (secrets exist)" --prepare true "$piimage bake -q $work/makina.yaml -o $work/out-makina" \
  -n "piimage re-bake of a 100-node plan" --prepare true "$piimage bake -q $work/plan100.yaml -o $work/out-100" >&2

peak_rss() { # median-free: the maximum peak RSS over 5 runs, in MiB
  local max=0 kb
  for _ in 1 2 3 4 5; do
    kb=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1)
    (( kb > max )) && max=$kb
  done
  echo $(( max / 1024 ))
}
{
  echo "peak RSS (max of 5 runs):"
  echo "  bake makina:     $(peak_rss "$piimage" bake -q "$work/makina.yaml" -o "$work/out-makina") MiB"
  echo "  bake 100 nodes:  $(peak_rss "$piimage" bake -q "$work/plan100.yaml" -o "$work/out-100") MiB"
} | tee "$results/rss.txt"

echo
"$root/bench/table.py" "$results/bake.json"
python3 - "$results/bake.json" <<'PY'
import json, sys
med = [r["median"] for r in json.load(open(sys.argv[1]))["results"]]
first, cfssl, rebake, hundred = med
print(f"\nfirst bake / cfssl x3 = {first / cfssl:.2f} (target <= 2); re-bake {rebake:.3f} s (target <= 0.3 s);"
      f" 100 nodes {hundred:.3f} s (target <= 1 s)")
PY
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg);" \
  "piimage: $piimage; java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1)"
