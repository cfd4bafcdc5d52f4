#!/bin/sh
# Build step (mvn package, after the jar): generates what the .deb and the tarball carry besides the
# jar, from the jar itself so they match the CLI: man pages (piimage man), the bash completion
# (piimage completion), the launcher with its version, and the Debian changelog. Everything is
# reproducible: no timestamps, gzip -n, the date taken from project.build.outputTimestamp.
#   prepare.sh JAVA JAR OUTDIR VERSION OUTPUT_TIMESTAMP MAINTAINER
set -eu
java="$1" jar="$2" out="$3" version="$4" stamp="$5" maintainer="$6"
src="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$out"
mkdir -p "$out/man" "$out/completion" "$out/bin" "$out/doc"

"$java" -Xshare:off -jar "$jar" man -o "$out/man" >/dev/null
gzip -9n "$out"/man/*.1
# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
"$java" -Xshare:off -jar "$jar" completion | sed '1{/^#!/d}' >"$out/completion/piimage"

sed "s/@VERSION@/$version/" "$src/piimage" >"$out/bin/piimage"
chmod 0755 "$out/bin/piimage"

date="$(date -u -R -d "$stamp")"
cat >"$out/doc/changelog" <<LOG
piimage ($version) unstable; urgency=medium

  * Release $version: /usr/bin/piimage, man pages, bash completion.

 -- $maintainer  $date
LOG
gzip -9n "$out/doc/changelog"
