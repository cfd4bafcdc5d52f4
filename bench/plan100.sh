#!/usr/bin/env bash
# Prints the benches' 100-node plan: 2 load balancers, 3 control planes and 95 workers on a /16.
#   plan100.sh SSH_PUBLIC_KEY_LINE
set -euo pipefail
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
  sshAuthorizedKeys: ["$1"]
nodes:
  - {name: lb1, role: load-balancer, address: 10.20.0.11}
  - {name: lb2, role: load-balancer, address: 10.20.0.12}
  - {name: cp1, role: control-plane, address: 10.20.1.1}
  - {name: cp2, role: control-plane, address: 10.20.1.2}
  - {name: cp3, role: control-plane, address: 10.20.1.3}
PLAN
for i in $(seq 1 95); do echo "  - {name: w$i, role: worker, address: 10.20.2.$i}"; done
