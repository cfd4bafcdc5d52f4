# shellcheck shell=bash
# Phase 10-prepare (Kubernetes nodes): what kubelet needs from the OS before anything is installed.
#  - the memory cgroup: Raspberry Pi kernels disable it; cgroup_enable=memory is appended to the boot
#    partition's cmdline.txt (once, never rewriting the line) and the node reboots once;
#  - control planes: enough memory for kubeadm's preflight, checked before anything long happens;
#  - a Pi 5 boots the 4K-page kernel ([pi5] kernel=kernel8.img) where the image ships it; the board
#    is read from the device tree, the plan's model is only a fallback;
#  - swap off for good (Ubuntu: fstab/swapfile; Raspberry Pi OS trixie: rpi-swap; bookworm: dphys-swapfile);
#  - kernel modules and sysctls (files written by cloud-init), checked;
#  - a synchronised clock (a Pi has no RTC; TLS certificates need the right time), bounded wait.
# shellcheck source=/dev/null
. "$ROOT/etc/piimage/kubernetes.env"

phase_prepare() {
  local boot="$ROOT$PIIMAGE_BOOT_MOUNT" reasons=() board
  local boot_id
  boot_id="$(cat "$ROOT/proc/sys/kernel/random/boot_id" 2>/dev/null || echo unknown)"

  if [[ "$PIIMAGE_ROLE" == control-plane ]]; then
    check_control_plane_memory
  fi
  board="$(board_model)"

  if ! grep -qw memory "$ROOT/sys/fs/cgroup/cgroup.controllers" 2>/dev/null; then
    if grep -qw 'cgroup_enable=memory' "$boot/cmdline.txt" && [[ -e "$STATE_DIR/rebooted-for-prepare" ]] \
      && [[ "$(cat "$STATE_DIR/rebooted-for-prepare")" != "$boot_id" ]]; then
      fail "the memory cgroup is still disabled after a reboot with cgroup_enable=memory (see $PIIMAGE_BOOT_MOUNT/cmdline.txt)"
    fi
    append_cmdline cgroup_enable=memory "$boot/cmdline.txt"
    reasons+=("memory cgroup")
  fi

  if [[ "$board" == pi5 ]]; then
    if [[ ! -e "$boot/kernel8.img" ]]; then
      log "pi5: no kernel8.img on the boot partition (not Raspberry Pi OS); keeping the image's kernel"
    elif ! grep -qx 'kernel=kernel8.img' "$boot/config.txt"; then
      printf '\n# piimage: 4K-page kernel on the Pi 5 (kernel_2712.img uses 16K pages, which breaks\n# jemalloc in many container images)\n[pi5]\nkernel=kernel8.img\n[all]\n' >>"$boot/config.txt"
      log "pi5: config.txt now boots kernel8.img (4K pages)"
      reasons+=("Pi 5 4K-page kernel")
    elif [[ "$(getconf PAGESIZE)" != 4096 ]]; then
      log "pi5: warning: page size is $(getconf PAGESIZE) although config.txt selects kernel8.img"
    fi
  fi

  if ((${#reasons[@]} > 0)); then
    if [[ "$(cat "$STATE_DIR/rebooted-for-prepare" 2>/dev/null)" == "$boot_id" ]]; then
      log "reboot already requested in this boot; waiting for it"
    fi
    echo "$boot_id" >"$STATE_DIR/rebooted-for-prepare"
    request_reboot "${reasons[*]}"
  fi
  log "memory cgroup: enabled"

  disable_swap
  log "swap: off"

  modprobe overlay || fail "modprobe overlay failed"
  modprobe br_netfilter || fail "modprobe br_netfilter failed"
  sysctl --system >/dev/null || fail "sysctl --system failed"
  [[ "$(cat "$ROOT/proc/sys/net/ipv4/ip_forward")" == 1 ]] || fail "net.ipv4.ip_forward is not 1"
  log "kernel modules and sysctls: ok"

  wait_until "${PIIMAGE_CLOCK_WAIT:-600}" "the clock to be synchronised (NTP)" clock_synchronised
}

# Appends one parameter to the single line of cmdline.txt, once; the rest of the line is kept as it is.
append_cmdline() {
  local parameter="$1" file="$2"
  if grep -qw -- "$parameter" "$file"; then
    return 0
  fi
  local line
  line="$(head -n 1 "$file")"
  if ((${#line} + ${#parameter} + 1 > 2047)); then
    fail "cmdline.txt would exceed the kernel's 2048-byte limit with $parameter"
  fi
  # Only the end of line 1 changes: root=PARTUUID=... and everything else stay exactly as they were.
  sed -i "1 s/[[:space:]]*\$/ $parameter/" "$file"
  log "cmdline.txt: appended $parameter"
}

disable_swap() {
  if [[ "$PIIMAGE_SWAP" == rpi-swap || -e "$ROOT/etc/rpi/swap.conf" ]]; then
    # Raspberry Pi OS trixie: rpi-swap sets up zram/file swap at boot from /etc/rpi/swap.conf.
    mkdir -p "$ROOT/etc/rpi"
    if [[ -e "$ROOT/etc/rpi/swap.conf" ]] && grep -q '^[[:space:]]*Mechanism[[:space:]]*=' "$ROOT/etc/rpi/swap.conf"; then
      sed -i 's/^[[:space:]]*Mechanism[[:space:]]*=.*/Mechanism=none/' "$ROOT/etc/rpi/swap.conf"
    elif [[ -e "$ROOT/etc/rpi/swap.conf" ]] && grep -q '^\[Main\]' "$ROOT/etc/rpi/swap.conf"; then
      sed -i 's/^\[Main\]/[Main]\nMechanism=none/' "$ROOT/etc/rpi/swap.conf"
    else
      printf '# piimage: kubelet needs swap off\n[Main]\nMechanism=none\n' >>"$ROOT/etc/rpi/swap.conf"
    fi
  fi
  if command -v dphys-swapfile >/dev/null; then
    dphys-swapfile swapoff || true
    systemctl disable --now dphys-swapfile.service || true
  fi
  swapoff -a || fail "swapoff -a failed"
  if [[ -e "$ROOT/etc/fstab" ]]; then
    sed -i -E 's/^([^#][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# piimage (kubelet needs swap off): \1/' "$ROOT/etc/fstab"
  fi
  [[ -z "$(swapon --show --noheadings)" ]] || fail "swap is still on: $(swapon --show --noheadings | tr '\n' ' ')"
}

# kubeadm refuses a control plane with less than 1700 MB of RAM (preflight MemCheck: total RAM from
# sysinfo, in MiB, which is /proc/meminfo's MemTotal). A 1 GB Pi 4 would only find out at kubeadm
# init/join, after the packages and images; say so now, plainly.
check_control_plane_memory() {
  local kb
  kb="$(awk '$1 == "MemTotal:" { print $2 }' "$ROOT/proc/meminfo" 2>/dev/null)"
  [[ "$kb" =~ ^[0-9]+$ ]] || fail "cannot read MemTotal from /proc/meminfo"
  if ((kb / 1024 < PIIMAGE_CONTROL_PLANE_MIN_MB)); then
    fail "this board has $((kb / 1024)) MB of RAM; a control plane needs at least $PIIMAGE_CONTROL_PLANE_MIN_MB MB (kubeadm's preflight check refuses less): use a Pi with 2 GB or more, or make this node a worker"
  fi
  log "memory: $((kb / 1024)) MB (a control plane needs $PIIMAGE_CONTROL_PLANE_MIN_MB MB)"
}

# The board this runs on, from the device tree (pi5 covers what config.txt's [pi5] filter matches:
# Pi 5, Pi 500, CM5; pi4: Pi 4, Pi 400, CM4); the plan's model where the device tree says nothing.
board_model() {
  local model="" key
  if [[ -r "$ROOT/proc/device-tree/model" ]]; then
    model="$(tr -d '\0' <"$ROOT/proc/device-tree/model")"
  fi
  if [[ -z "$model" ]]; then
    log "board: no /proc/device-tree/model; going by the plan's model (${PIIMAGE_MODEL:-none})"
    echo "$PIIMAGE_MODEL"
    return 0
  fi
  case "$model" in
    # "Raspberry Pi 5 Model B Rev 1.0", "Raspberry Pi 500 Rev 1.0", "Raspberry Pi Compute Module 5 Rev 1.0"
    "Raspberry Pi 5"* | "Raspberry Pi Compute Module 5"*) key=pi5 ;;
    "Raspberry Pi 4"* | "Raspberry Pi Compute Module 4"*) key=pi4 ;;
    *) key=other ;;
  esac
  if [[ -n "$PIIMAGE_MODEL" && "$PIIMAGE_MODEL" != "$key" ]]; then
    log "board: $model, although the plan says $PIIMAGE_MODEL; going by the board"
  else
    log "board: $model"
  fi
  echo "$key"
}

