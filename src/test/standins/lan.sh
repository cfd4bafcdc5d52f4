#!/bin/bash
# lan.sh: a LAN of network namespaces for the first-boot protocol tests (recipes.md): a bridge in
# namespace PREFIX-sw and one namespace per host, eth0 plugged into the bridge.
#   lan.sh up PREFIX NAME=ADDRESS/24...     create (lo up, eth0 up with ADDRESS)
#   lan.sh down PREFIX NAME...              kill every process in the namespaces and delete them
set -euo pipefail
action="$1" prefix="$2"
shift 2
case "$action" in
  up)
    ip netns add "$prefix-sw"
    ip -n "$prefix-sw" link add br0 type bridge
    ip -n "$prefix-sw" link set br0 up
    i=0
    for host in "$@"; do
      address="${host#*=}" ns="$prefix-${host%%=*}" veth="${prefix//-/}v$i"
      i=$((i + 1))
      ip netns add "$ns"
      ip link add "$veth" type veth peer name eth0 netns "$ns"
      ip link set "$veth" netns "$prefix-sw"
      ip -n "$prefix-sw" link set "$veth" master br0 up
      ip -n "$ns" link set lo up
      ip -n "$ns" addr add "$address" dev eth0
      ip -n "$ns" link set eth0 up
    done
    ;;
  down)
    for name in "$@" sw; do
      ns="$prefix-$name"
      if ip netns list | grep -q "^$ns\b"; then
        pids="$(ip netns pids "$ns" || true)"
        if [[ -n "$pids" ]]; then
          # shellcheck disable=SC2086
          kill -9 $pids 2>/dev/null || true
        fi
        ip netns del "$ns" || true
      fi
    done
    ;;
esac
