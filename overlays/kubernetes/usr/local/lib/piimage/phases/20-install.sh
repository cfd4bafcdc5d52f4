# shellcheck shell=bash
# Phase 20-install (Kubernetes nodes): containerd (SystemdCgroup, the plan's registry mirrors) and
# kubeadm/kubelet/kubectl from pkgs.k8s.io for the plan's minor version, pinned to the plan's patch
# when it names one, then held. cloud-init wrote the repository definition (write_files: Raspberry
# Pi OS's cloud-init has no apt module) to /etc/piimage/apt/; it is enabled here, after the signing
# key has been fetched, so that cloud-init's own package step never sees a repository without its key.
# shellcheck source=/dev/null
. "$ROOT/etc/piimage/kubernetes.env"

K8S_PACKAGES=(kubelet kubeadm kubectl)
KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.asc

phase_install() {
  export DEBIAN_FRONTEND=noninteractive
  install_repository
  apt_update
  local version="" wanted=()
  if [[ -n "$PIIMAGE_K8S_PATCH" ]]; then
    version="$(apt-cache madison kubeadm | awk -v want="$PIIMAGE_K8S_PATCH-" '{ if (index($3, want) == 1) { print $3; exit } }')"
    [[ -n "$version" ]] || fail "pkgs.k8s.io v$PIIMAGE_K8S_MINOR has no kubeadm $PIIMAGE_K8S_PATCH"
    wanted=("${K8S_PACKAGES[@]/%/=$version}")
  else
    wanted=("${K8S_PACKAGES[@]}")
  fi
  apt_install --allow-change-held-packages containerd curl jq conntrack socat "${wanted[@]}"
  apt-mark hold "${K8S_PACKAGES[@]}" >/dev/null || fail "apt-mark hold failed"
  log "installed ${wanted[*]} (held)"

  configure_containerd
  systemctl enable containerd.service || fail "cannot enable containerd"
  systemctl restart containerd.service || fail "containerd does not start"
  systemctl enable kubelet.service || fail "cannot enable kubelet"
}

install_repository() {
  local list="$ROOT/etc/apt/sources.list.d/kubernetes.list"
  if [[ ! -s "$ROOT$KEYRING" ]]; then
    # Fetched over HTTPS from pkgs.k8s.io, as upstream documents: the key rotates before it expires,
    # so a copy frozen at bake time would eventually stop verifying the repository.
    local url="https://pkgs.k8s.io/core:/stable:/v$PIIMAGE_K8S_MINOR/deb/Release.key" tmp
    tmp="$(mktemp)"
    wait_until 300 "the pkgs.k8s.io signing key" curl -fsSL --max-time 30 -o "$tmp" "$url"
    grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$tmp" || fail "$url is not a PGP public key"
    mkdir -p "$ROOT/etc/apt/keyrings"
    install -m 0644 "$tmp" "$ROOT$KEYRING"
    rm -f "$tmp"
    log "pkgs.k8s.io signing key installed at $KEYRING"
  fi
  if ! cmp -s "$ROOT/etc/piimage/apt/kubernetes.list" "$list"; then
    install -D -m 0644 "$ROOT/etc/piimage/apt/kubernetes.list" "$list"
  fi
}

# containerd's own default configuration with what kubelet and the CNI plugins need, for both
# layouts: containerd 1.x (version = 2, plugins."io.containerd.grpc.v1.cri") and 2.x (version = 3,
# plugins.'io.containerd.cri.v1.runtime' / 'io.containerd.cri.v1.images'):
#  - the systemd cgroup driver (kubelet's cgroupDriver is systemd too);
#  - registry hosts from /etc/containerd/certs.d (the plan's mirrors);
#  - CNI plugins from /opt/cni/bin, where kubernetes-cni, flannel and Calico install them (Debian
#    trixie's containerd 1.7 defaults to /usr/lib/cni, so pods would never get a network);
#  - the sandbox (pause) image of the installed kubeadm, not the one containerd was built with
#    (kubelet and kubeadm expect theirs; an old one is pulled in addition and may be garbage-collected).
# Runs after kubeadm is installed.
configure_containerd() {
  local config="$ROOT/etc/containerd/config.toml" tmp pause cri runtime images
  mkdir -p "$ROOT/etc/containerd"
  pause="$(kubeadm_pause_image)"
  tmp="$(mktemp)"
  containerd config default >"$tmp" || fail "containerd config default failed"
  local layout=1
  if grep -Eq '^version = 3' "$tmp"; then
    layout=2
  fi
  if ((layout == 2)); then
    runtime="plugins.'io.containerd.cri.v1.runtime'"
    images="plugins.'io.containerd.cri.v1.images'"
    toml_set "$tmp" "$runtime.containerd.runtimes.runc.options" SystemdCgroup true
    toml_set "$tmp" "$images.registry" config_path "'/etc/containerd/certs.d'"
    toml_set "$tmp" "$runtime.cni" bin_dirs "['/opt/cni/bin']"
    toml_set "$tmp" "$images.pinned_images" sandbox "'$pause'"
  else
    cri='plugins."io.containerd.grpc.v1.cri"'
    toml_set "$tmp" "$cri.containerd.runtimes.runc.options" SystemdCgroup true
    toml_set "$tmp" "$cri.registry" config_path "'/etc/containerd/certs.d'"
    toml_set "$tmp" "$cri.cni" bin_dir "'/opt/cni/bin'"
    toml_set "$tmp" "$cri" sandbox_image "'$pause'"
  fi
  install -m 0644 "$tmp" "$config"
  rm -f "$tmp"
  log "containerd $layout.x configuration: SystemdCgroup = true, registry hosts in /etc/containerd/certs.d," \
    "CNI plugins in /opt/cni/bin, sandbox image $pause"

  local mirror host endpoint insecure server dir
  for mirror in "${PIIMAGE_REGISTRY_MIRRORS[@]}"; do
    IFS='|' read -r host endpoint insecure <<<"$mirror"
    server="https://$host"
    if [[ "$host" == docker.io ]]; then
      server="https://registry-1.docker.io"
    fi
    dir="$ROOT/etc/containerd/certs.d/$host"
    mkdir -p "$dir"
    {
      echo "# piimage: registry mirror from the plan (os.registryMirrors)"
      echo "server = \"$server\""
      echo
      echo "[host.\"$endpoint\"]"
      echo "  capabilities = [\"pull\", \"resolve\"]"
      if [[ "$insecure" == true ]]; then
        echo "  skip_verify = true"
      fi
    } >"$dir/hosts.toml"
    log "registry $host: mirror $endpoint (insecure: $insecure)"
  done
}

# The pause image the installed kubeadm wants (kubeadm computes the list offline for a given version).
kubeadm_pause_image() {
  local version images pause
  version="$(kubeadm version -o short)" || fail "kubeadm version failed"
  images="$(kubeadm config images list --kubernetes-version "$version")" \
    || fail "kubeadm config images list --kubernetes-version $version failed"
  pause="$(grep -m 1 -E '/pause:[^[:space:]]+$' <<<"$images")" || fail "kubeadm $version lists no pause image"
  echo "$pause"
}

# Sets KEY = VALUE (VALUE is TOML: quoted, an array, a boolean) in table [TABLE] of FILE, TABLE spelled
# the way containerd writes it: the key's line is replaced where the table has it, added at the end of
# the table where it has not, and the table appended when the file has none. containerd's default
# configuration is plain TOML with one header per table, which is all this needs to handle.
toml_set() {
  local file="$1" table="$2" key="$3" value="$4" tmp
  tmp="$(mktemp)"
  awk -v table="[$table]" -v key="$key" -v value="$value" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    function add() { if (inside && !done) { print indent "  " key " = " value; done = 1 } }
    /^[ \t]*\[/ {
      add()
      inside = (trim($0) == table)
      if (inside) { indent = $0; sub(/\[.*/, "", indent) }
      print; next
    }
    inside && !done && $0 ~ ("^[ \t]*" key "[ \t]*=") {
      lead = $0; sub(/[^ \t].*/, "", lead)
      print lead key " = " value; done = 1; next
    }
    { print }
    END { add(); if (!done) printf "\n%s\n  %s = %s\n", table, key, value }
  ' "$file" >"$tmp" || fail "cannot edit $file"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}
