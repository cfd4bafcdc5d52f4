#!/usr/bin/env bash
# Benchmarks whole `piimage bake` processes (JVM start included), as a user runs them:
#   1. examples/makina.yaml with its secrets already made (the usual re-bake);
#   2. a generated 100-node plan;
#   3. making the cluster's CA set: piimage's first bake of a 1-node plan (3 CAs + SA key + 2 client
#      certificates) against `cfssl gencert -initca` making the same three CAs, in the same run.
# Medians from hyperfine; peak RSS (max over runs) from GNU time. Results: bench/results/.
# PIIMAGE=/usr/bin/piimage times the installed command instead of the checkout's launcher.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${RUNS:-15}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$root/bench/results"
mkdir -p "$results"
piimage="${PIIMAGE:-$root/piimage}"

for tool in hyperfine cfssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install hyperfine golang-cfssl time)" >&2; exit 1; }
done

"$piimage" --version >/dev/null   # build the jar if needed
key="$(ssh-keygen -q -t ed25519 -N '' -f "$work/key" >/dev/null && cut -d' ' -f1,2 "$work/key.pub" || echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBenchBe')"

# A 100-node plan: 3 control planes, 2 load balancers, 95 workers on a /16.
{
  cat <<PLAN
apiVersion: piimage/v1
cluster:
  name: bench
  kubernetesVersion: "1.31"
endpoint:
  vip: 10.20.0.10
  port: 9000
  loadBalancer: dedicated
network:
  subnet: 10.20.0.0/16
  gateway: 10.20.0.1
os:
  sshAuthorizedKeys: ["$key"]
nodes:
  - {name: lb1, role: load-balancer, address: 10.20.0.11}
  - {name: lb2, role: load-balancer, address: 10.20.0.12}
  - {name: cp1, role: control-plane, address: 10.20.1.1}
  - {name: cp2, role: control-plane, address: 10.20.1.2}
  - {name: cp3, role: control-plane, address: 10.20.1.3}
PLAN
  for i in $(seq 1 95); do echo "  - {name: w$i, role: worker, address: 10.20.2.$i}"; done
} >"$work/plan100.yaml"

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
"$piimage" bake -q "$work/makina.yaml" -o "$work/out-makina" 2>/dev/null
"$piimage" bake -q "$work/plan100.yaml" -o "$work/out-100" 2>/dev/null

for cn in kubernetes front-proxy-ca etcd-ca; do
  printf '{"CN":"%s","key":{"algo":"rsa","size":2048},"ca":{"expiry":"87600h"}}\n' "$cn" >"$work/$cn-csr.json"
done
cat >"$work/cfssl-3cas.sh" <<SH
#!/bin/sh
set -e
cd "$work"
for cn in kubernetes front-proxy-ca etcd-ca; do cfssl gencert -initca "\$cn-csr.json" >"\$cn.json" 2>/dev/null; done
SH
chmod +x "$work/cfssl-3cas.sh"

hyperfine -N --style basic --warmup 2 --runs "$runs" --export-json "$results/bake.json" \
  -n "bake makina (secrets exist)" "$piimage bake -q $work/makina.yaml -o $work/out-makina" \
  -n "bake 100-node plan" "$piimage bake -q $work/plan100.yaml -o $work/out-100" \
  -n "piimage first bake, 1 node (makes 3 CAs + SA + 2 client certs)" \
     --prepare "rm -rf $work/one.secrets $work/out-one" "$piimage bake -q $work/one.yaml -o $work/out-one" \
  -n "cfssl gencert -initca x3 (3 CAs)" "$work/cfssl-3cas.sh"

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

python3 - "$results/bake.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']:<66} median {r['median']*1000:7.0f} ms  (min {r['min']*1000:.0f}, max {r['max']*1000:.0f}, n={len(r['times'])})")
PY
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
