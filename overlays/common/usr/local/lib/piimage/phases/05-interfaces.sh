# shellcheck shell=bash
# Phase 05-interfaces (every node): the plan's interfaces exist under the plan's names.
# A USB Ethernet adapter is eth1 in the plan; where the image names it enx<MAC>, netplan renames it
# (a .link file in /run/systemd/network), but udev applies .link files only when a device appears:
# on the first boot the adapter was already there before cloud-init wrote the network config. So the
# rename is applied here: udev re-triggered, else one reboot (from then on udev names it at boot).
phase_interfaces() {
  local name boot_id
  boot_id="$(cat "$ROOT/proc/sys/kernel/random/boot_id" 2>/dev/null || echo unknown)"
  for name in "$PIIMAGE_INTERFACE" ${PIIMAGE_UPLINK:+"$PIIMAGE_UPLINK"}; do
    if interface_present "$name"; then
      log "interface $name: present"
      continue
    fi
    if [[ -e "$ROOT/run/systemd/network/10-netplan-$name.link" ]]; then
      log "interface $name: not renamed yet; asking udev to apply netplan's rename"
      udevadm trigger --action=add --subsystem-match=net || true
      udevadm settle --timeout=30 || true
      if interface_present "$name"; then
        log "interface $name: renamed by udev"
        continue
      fi
      if [[ ! -e "$STATE_DIR/rebooted-for-$name" ]]; then
        echo "$boot_id" >"$STATE_DIR/rebooted-for-$name"
        request_reboot "interface $name: udev names it at boot"
      fi
    fi
    # A USB adapter may take a while to appear, or not be plugged in at all.
    wait_until "${PIIMAGE_INTERFACE_WAIT:-120}" "interface $name (is the adapter plugged in?)" interface_present "$name"
  done
}

interface_present() {
  [[ -e "$ROOT/sys/class/net/$1" ]]
}
