# Sourced by the benches: sets $piimage to the installed command. PIIMAGE=/usr/bin/piimage (the .deb's)
# is used as it is; otherwise the release tarball (built by mvn package if missing) is unpacked into
# $work and run from there, as a user who installed it runs it. The launcher's per-user cache (its
# class-data archive) goes to $work/cache, so a bench neither uses nor changes the user's.
# Needs $root (the checkout) and $work (a temporary directory the bench deletes).
if [[ -n "${PIIMAGE:-}" ]]; then
  piimage="$PIIMAGE"
else
  version="$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/pom.xml" | head -1)"
  tarball="$root/target/piimage-$version.tar.gz"
  if [[ ! -f "$tarball" ]]; then
    echo "bench: building $tarball (mvn -B -DskipTests package)..." >&2
    (cd "$root" && mvn -q -B -DskipTests package) >&2
  fi
  tar -xzf "$tarball" -C "$work"
  piimage="$work/piimage-$version/bin/piimage"
fi
export XDG_CACHE_HOME="$work/cache"
