# shellcheck shell=bash
# Phase 15-packages (every node): the Debian packages this node's roles need, listed in
# /etc/piimage/packages. Installed here, not by cloud-init's package step: that step runs once, early
# (before the gateway routes or answers DNS, before NTP has set the clock) and never retries.
#  - the clock: a Pi has no RTC and boots at 1970 or at the last fake-hwclock time, and apt rejects
#    Release files that are "not valid yet"; so wait (bounded) for NTP, then go on anyway;
#  - apt-get update + install retried until they succeed (bounded), waiting for the dpkg lock.
phase_packages() {
  local packages=()
  mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$ROOT/etc/piimage/packages" | grep -v '^$' || true)
  if ((${#packages[@]} == 0)); then
    log "packages: none needed"
    return 0
  fi
  if ! wait_until "${PIIMAGE_CLOCK_WAIT:-600}" "the clock to be synchronised (NTP) before apt" ntp_synchronised; then
    # apt may still work (a fake-hwclock time close enough); its own retries cover the rest. The
    # runner reports PIIMAGE_ERROR if a later step fails: that is not this wait.
    # shellcheck disable=SC2034
    PIIMAGE_ERROR=""
    log "packages: clock not synchronised after ${PIIMAGE_CLOCK_WAIT:-600}s ($(date -u +%FT%TZ)); trying apt anyway"
  fi
  apt_install "${packages[@]}"
  log "packages: installed ${packages[*]}"
}

ntp_synchronised() {
  [[ "$(timedatectl show --property=NTPSynchronized --value 2>/dev/null)" == yes ]]
}
