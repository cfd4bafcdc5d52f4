# shellcheck shell=bash
# Phase endpoint: start HAProxy (where this node runs it) and keepalived, which moves the VIP.
# Idempotent: configs are checked and the services (re)started every time it runs.
# The image profiles have no active firewall; VRRP (protocol 112) and the endpoint port need no opening.
phase_endpoint() {
  sysctl -q -p "$ROOT/etc/sysctl.d/90-piimage-vip.conf"
  if [[ -f "$ROOT/etc/haproxy/haproxy.cfg" ]]; then
    log "endpoint: checking and starting HAProxy"
    haproxy -c -q -f "$ROOT/etc/haproxy/haproxy.cfg"
    systemctl enable haproxy.service
    systemctl restart haproxy.service
  fi
  log "endpoint: checking and starting keepalived"
  keepalived -t -f "$ROOT/etc/keepalived/keepalived.conf"
  systemctl enable keepalived.service
  systemctl restart keepalived.service
}
