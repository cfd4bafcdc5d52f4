# shellcheck shell=bash
# Phase 90-finish (every node): the node is assembled, so the secrets it was seeded with come off
# the boot partition (FAT: any local user can read it) and out of cloud-init's cached copies.
#  - user-data on the boot partition and cloud-init's user-data.txt copies are rewritten without the
#    write_files entries that hold secrets (permissions '0600': keys, token, kubeadm configs); the
#    rest stays, so cloud-init still reads a valid file on later boots;
#  - cloud-init's derived copies (user-data.txt.i, cloud-config.txt, the pickled datasource obj.pkl
#    that embeds the raw user-data, and the rendered scripts) are deleted; cloud-init rebuilds what it
#    needs from the scrubbed seed.
# The runner writes the sentinel (/var/lib/piimage/done) after this phase.

phase_finish() {
  local file
  scrub_user_data "$ROOT$PIIMAGE_BOOT_MOUNT/user-data"
  shopt -s nullglob
  for file in "$ROOT"/var/lib/cloud/instance/user-data.txt "$ROOT"/var/lib/cloud/instances/*/user-data.txt; do
    scrub_user_data "$file"
  done
  for file in "$ROOT"/var/lib/cloud/instance/user-data.txt.i "$ROOT"/var/lib/cloud/instances/*/user-data.txt.i \
    "$ROOT"/var/lib/cloud/instance/cloud-config.txt "$ROOT"/var/lib/cloud/instances/*/cloud-config.txt \
    "$ROOT"/var/lib/cloud/instance/obj.pkl "$ROOT"/var/lib/cloud/instances/*/obj.pkl; do
    rm -f "$file"
    log "removed cloud-init's copy ${file#"$ROOT"}"
  done
  for file in "$ROOT"/var/lib/cloud/instance/scripts "$ROOT"/var/lib/cloud/instances/*/scripts; do
    if [[ -d "$file" && ! -L "$file" ]]; then
      rm -rf "$file"
      log "removed cloud-init's rendered scripts ${file#"$ROOT"}"
    fi
  done
  shopt -u nullglob
  sync
}

# Drops every write_files entry with permissions '0600' from a user-data file piimage wrote.
scrub_user_data() {
  local file="$1" tmp dropped
  [[ -f "$file" ]] || return 0
  if ! grep -q "^    permissions: '0600'" "$file"; then
    return 0
  fi
  tmp="$(mktemp "$file.XXXXXX" 2>/dev/null || mktemp)"
  dropped="$(awk -v out="$tmp" '
    function flush() {
      if (entry != "") {
        if (secret) { dropped++ } else { printf "%s", entry > out }
      }
      entry = ""; secret = 0
    }
    /^[^ #]/ { flush(); in_files = ($0 ~ /^write_files:/); print > out; next }
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
  cat "$tmp" >"$file"
  rm -f "$tmp"
  log "removed $dropped secret file(s) from ${file#"$ROOT"}"
}
