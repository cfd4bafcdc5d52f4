# shellcheck shell=bash
# What the etcd snapshot timer and a restore share (sourced).

# True when FILE is a complete etcd snapshot: a bbolt database (bbolt's magic at offset 16) followed by
# the SHA-256 of everything before its last 32 bytes, as etcd's snapshot stream ends.
snapshot_complete() {
  local file="$1" size want got
  size="$(stat -c %s "$file")"
  ((size > 52)) || return 1
  [[ "$(od -An -v -tx1 -j 16 -N 4 "$file" | tr -d ' \n')" == "edda0ced" ]] || return 1
  want="$(tail -c 32 "$file" | od -An -v -tx1 | tr -d ' \n')"
  got="$(head -c "$((size - 32))" "$file" | sha256sum | cut -d' ' -f1)"
  [[ "$want" == "$got" ]]
}
