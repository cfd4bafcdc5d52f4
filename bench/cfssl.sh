# shellcheck shell=bash
# Sourced by the benches that compare with cfssl: cfssl_three_cas DIR writes DIR/cfssl-3cas.sh, which
# makes the three CAs of a first bake (kubernetes, front-proxy-ca, etcd-ca; RSA-2048, 10 years) with
# `cfssl gencert -initca` into DIR, and prints its path.
cfssl_three_cas() {
  local dir="$1" cn
  for cn in kubernetes front-proxy-ca etcd-ca; do
    printf '{"CN":"%s","key":{"algo":"rsa","size":2048},"ca":{"expiry":"87600h"}}\n' "$cn" >"$dir/$cn-csr.json"
  done
  cat >"$dir/cfssl-3cas.sh" <<SH
#!/bin/sh
set -e
cd "$dir"
for cn in kubernetes front-proxy-ca etcd-ca; do cfssl gencert -initca "\$cn-csr.json" >"\$cn.json" 2>/dev/null; done
SH
  chmod +x "$dir/cfssl-3cas.sh"
  echo "$dir/cfssl-3cas.sh"
}
