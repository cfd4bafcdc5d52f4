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

# containerd's own default configuration, with the systemd cgroup driver (kubelet's cgroupDriver is
# systemd too) and registry hosts from /etc/containerd/certs.d. Both layouts are handled:
# containerd 1.x (version = 2, plugins."io.containerd.grpc.v1.cri") and 2.x (version = 3,
# plugins.'io.containerd.cri.v1.runtime' / 'io.containerd.cri.v1.images').
configure_containerd() {
  local config="$ROOT/etc/containerd/config.toml" tmp
  mkdir -p "$ROOT/etc/containerd"
  tmp="$(mktemp)"
  containerd config default >"$tmp" || fail "containerd config default failed"
  local layout=1
  if grep -Eq '^version = 3' "$tmp"; then
    layout=2
  fi
  if grep -q 'SystemdCgroup = ' "$tmp"; then
    sed -i -E 's/^([[:space:]]*)SystemdCgroup = .*/\1SystemdCgroup = true/' "$tmp"
  elif ((layout == 2)); then
    printf "\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n" >>"$tmp"
  else
    printf '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n' >>"$tmp"
  fi
  if grep -Eq "^[[:space:]]*config_path = (''|\"\")" "$tmp"; then
    sed -i -E "s#^([[:space:]]*config_path = )(''|\"\")#\\1'/etc/containerd/certs.d'#" "$tmp"
  elif ! grep -q 'config_path = .*/etc/containerd/certs.d' "$tmp"; then
    if ((layout == 2)); then
      printf "\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d'\n" >>"$tmp"
    else
      printf '\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n' >>"$tmp"
    fi
  fi
  grep -q 'SystemdCgroup = true' "$tmp" || fail "could not set SystemdCgroup in containerd's configuration"
  install -m 0644 "$tmp" "$config"
  rm -f "$tmp"
  log "containerd $layout.x configuration: SystemdCgroup = true, registry hosts in /etc/containerd/certs.d"

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
