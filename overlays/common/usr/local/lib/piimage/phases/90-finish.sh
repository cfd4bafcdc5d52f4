# shellcheck shell=bash
# Phase 90-finish (every node): the node is assembled, so the secrets it was seeded with come off
# the boot partition (FAT: anyone holding the card can read it) and out of cloud-init's copies, for
# real: a file rewritten shorter leaves the old bytes in freed clusters, where undelete tools find them.
#  - user-data on the boot partition (and cloud-init's copies user-data.txt and, if any, a seed under
#    /var/lib/cloud/seed) loses the write_files entries that hold secrets (permissions '0600': keys,
#    token, kubeadm and keepalived configs) and the ssh_keys block (the host keys' private halves).
#    Every byte of the file is
#    overwritten in place first (same clusters: the scrubbed text, then a comment of spaces as long as
#    what was dropped) and flushed; only then is the comment cut off. The rest stays, so cloud-init
#    still reads a valid file on later boots;
#  - the partition's free space is discarded (fstrim) where the card supports it;
#  - cloud-init's derived copies (user-data.txt.i, cloud-config.txt, the pickled
#    datasource obj.pkl that embeds the raw user-data, the rendered scripts) are overwritten in place
#    and deleted (shred: ext4 rewrites a file's blocks in place); cloud-init rebuilds what it needs
#    from the scrubbed seed.
# The secrets written to their real places (/etc/kubernetes/pki, /etc/ssh, ...) stay: they belong there.
# The runner writes the sentinel (/var/lib/piimage/done) after this phase.

phase_finish() {
  local file dir boot="$ROOT$PIIMAGE_BOOT_MOUNT"
  await_cloud_init
  scrub_in_place "$boot/user-data"
  trim_free_space "$boot"
  shopt -s nullglob
  # instance is (on a real node) a symlink to instances/<id>: a copy reached twice is handled once.
  for dir in "$ROOT"/var/lib/cloud/seed/* "$ROOT"/var/lib/cloud/instance "$ROOT"/var/lib/cloud/instances/*; do
    scrub_in_place "$dir/user-data"
    scrub_in_place "$dir/user-data.txt"
    for file in "$dir"/{user-data.txt.i,cloud-config.txt,obj.pkl}; do
      if [[ -f "$file" && ! -L "$file" ]]; then
        shred --iterations=1 --zero --remove "$file" || fail "cannot overwrite ${file#"$ROOT"}"
        log "overwrote and removed cloud-init's copy ${file#"$ROOT"}"
      fi
    done
    if [[ -d "$dir/scripts" && ! -L "$dir/scripts" ]]; then
      find "$dir/scripts" -type f -exec shred --iterations=1 --zero --remove {} + || fail "cannot overwrite $dir/scripts"
      rm -rf "$dir/scripts"
      log "overwrote and removed cloud-init's rendered scripts ${dir#"$ROOT"}/scripts"
    fi
  done
  shopt -u nullglob
  sync
  # cloud-init rewrites its cache (obj.pkl, with the secrets) by a new file on every boot, so a node
  # that rebooted during its first boot (10-prepare's reboot, a power cut) has older copies in freed
  # blocks of the root file system, out of shred's reach: discard the free space there too.
  trim_free_space "$ROOT/"
}

# cloud-init reads its cached copies (obj.pkl) until its final stage ends, which it records in
# /run/cloud-init/result.json, anew on every boot. After a reboot or a power cut this unit starts by
# itself before cloud-final does; removing the cache under it made cloud-final fall back to
# DataSourceNone (seen in the QEMU boot test). So wait, bounded, and go on regardless.
await_cloud_init() {
  local waited=0 limit="${PIIMAGE_CLOUD_INIT_WAIT:-900}"
  while [[ ! -e "$ROOT/run/cloud-init/result.json" ]]; do
    if ((waited >= limit)); then
      log "cloud-init's final stage has not finished after ${waited}s; scrubbing its copies anyway"
      return 0
    fi
    if ((waited % 60 == 0)); then
      log "waiting for cloud-init's final stage to finish before scrubbing its copies (${waited}s)"
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

# True when a user-data file still holds a secret piimage put there.
has_secrets() {
  grep -q -e "^    permissions: '0600'" -e '^ssh_keys:' "$1"
}

# Drops the secret write_files entries and the ssh_keys block from a user-data file, overwriting
# every byte of it in place before it gets shorter.
scrub_in_place() {
  local file="$1" scrubbed dropped size new_size
  [[ -f "$file" ]] || return 0
  if ! has_secrets "$file"; then
    return 0
  fi
  # The scrubbed text holds no secret, so it may sit on the root file system for a moment.
  scrubbed="$(mktemp)"
  dropped="$(awk -v out="$scrubbed" '
    function flush() {
      if (entry != "") {
        if (secret) { dropped++ } else { printf "%s", entry > out }
      }
      entry = ""; secret = 0
    }
    /^[^ #]/ {
      flush()
      in_files = ($0 ~ /^write_files:/)
      skipping = ($0 ~ /^ssh_keys:/)
      if (skipping) { dropped++; next }
      print > out; next
    }
    skipping { next }
    in_files && /^  - path: / {
      flush(); entry = $0 "\n"; next
    }
    in_files && entry != "" {
      entry = entry $0 "\n"
      if ($0 ~ /^    permissions: .0600.$/) { secret = 1 }
      next
    }
    { print > out }
    END { flush(); print dropped + 0 }
  ' "$file")" || fail "cannot scrub $file"
  size="$(stat -c %s "$file")"
  new_size="$(stat -c %s "$scrubbed")"
  # Same length, same clusters: opened without truncation (dd conv=notrunc), flushed (fsync).
  { cat "$scrubbed"; yaml_padding $((size - new_size)); } \
    | dd of="$file" conv=notrunc,fsync bs=64K iflag=fullblock status=none || fail "cannot overwrite $file"
  # The padding (spaces) is all that the clusters freed now still hold.
  truncate -s "$new_size" "$file" || fail "cannot shorten $file"
  sync "$file"
  rm -f "$scrubbed"
  log "overwrote $dropped secret entr$([[ $dropped == 1 ]] && echo y || echo ies) of ${file#"$ROOT"} in place"
}

# N bytes that leave a YAML file valid: a comment line of spaces.
yaml_padding() {
  local n="$1"
  if ((n >= 2)); then
    printf '#%*s\n' $((n - 2)) ''
  elif ((n == 1)); then
    printf '\n'
  fi
}

# Tells the card which blocks are free (the FAT's clusters, now holding padding): flash that honours
# the discard may erase them. Many SD cards and USB readers do not support it; that is not an error.
trim_free_space() {
  local mount="$1" out
  if ! mountpoint -q "$mount"; then
    log "fstrim: $mount is not a mount point; nothing to trim"
    return 0
  fi
  if out="$(fstrim -v "$mount" 2>&1)"; then
    log "fstrim: $out"
  else
    log "fstrim of $mount not done (the device or file system does not support it): $out"
  fi
}
