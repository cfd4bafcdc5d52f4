# shellcheck shell=bash
# Phase gateway: forwarding, masquerading (nftables, persisted by nftables.service) and DNS
# forwarding for the cluster subnet. Idempotent: the ruleset is checked, then loaded as a whole.
# The cluster reaches the internet and its name servers through the uplink: nothing is served
# before the uplink has an address from the home router (bounded wait, logged).
phase_gateway() {
  wait_until "${PIIMAGE_UPLINK_WAIT:-600}" "an IPv4 address on the uplink $PIIMAGE_UPLINK (home router's DHCP)" uplink_has_address
  log "gateway: uplink $PIIMAGE_UPLINK has $(uplink_address)"
  sysctl -q -p "$ROOT/etc/sysctl.d/90-gateway.conf"
  nft -c -f "$ROOT/etc/nftables.conf"
  systemctl enable nftables.service
  systemctl restart nftables.service
  log "gateway: masquerading $(grep -o 'ip saddr [^ ]*' "$ROOT/etc/nftables.conf" | head -n1)"
  systemctl enable dnsmasq.service
  systemctl restart dnsmasq.service
}

uplink_address() {
  ip -4 -o address show dev "$PIIMAGE_UPLINK" scope global 2>/dev/null | awk '{ print $4; exit }'
}

uplink_has_address() {
  [[ -n "$(uplink_address)" ]]
}
