# shellcheck shell=bash
# Phase gateway: forwarding, masquerading (nftables, persisted by nftables.service) and DNS
# forwarding for the cluster subnet. Idempotent: the ruleset is checked, then loaded as a whole.
phase_gateway() {
  sysctl -q -p "$ROOT/etc/sysctl.d/90-gateway.conf"
  nft -c -f "$ROOT/etc/nftables.conf"
  systemctl enable nftables.service
  systemctl restart nftables.service
  log "gateway: masquerading $(grep -o 'ip saddr [^ ]*' "$ROOT/etc/nftables.conf" | head -n1)"
  systemctl enable dnsmasq.service
  systemctl restart dnsmasq.service
}
