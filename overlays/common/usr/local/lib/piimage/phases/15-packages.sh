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
  # An image that already has them (or a rerun after a power cut once they are in) needs no
  # network and no clock: only what is missing is worth waiting for.
  local missing=() package
  for package in "${packages[@]}"; do
    installed "$package" || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: ${packages[*]} already installed"
    return 0
  fi
  if ! wait_until "${PIIMAGE_CLOCK_WAIT:-600}" "the clock to be synchronised (NTP) before apt" clock_synchronised; then
    # apt may still work (a fake-hwclock time close enough); its own retries cover the rest. The
    # runner reports PIIMAGE_ERROR if a later step fails: that is not this wait.
    # shellcheck disable=SC2034
    PIIMAGE_ERROR=""
    log "packages: clock not synchronised after ${PIIMAGE_CLOCK_WAIT:-600}s ($(date -u +%FT%TZ)); trying apt anyway"
  fi
  apt_install "${packages[@]}"
  log "packages: installed ${packages[*]}"
}

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

