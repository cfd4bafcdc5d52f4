# shellcheck shell=bash
# Helpers of the 50-cluster phase shared by control planes and workers (sourced by the runner).
# The endpoint is the plan's vip:port (PIIMAGE_ENDPOINT in node.env).

KUBEADM_DONE="$STATE_DIR/kubeadm.done"
PKI_DIR="$ROOT/etc/kubernetes/pki"
PKI_SNAPSHOT="$STATE_DIR/prebaked-pki"

# `kubeadm reset` empties /etc/kubernetes/pki, the prebaked shared CAs included (without them a
# retried init would make new CAs and a retried join would fail): keep a copy taken before kubeadm
# ever ran here, and put it back after every reset.
pki_snapshot() {
  if [[ -d "$PKI_SNAPSHOT" || ! -d "$PKI_DIR" ]]; then
    return 0
  fi
  rm -rf "$PKI_SNAPSHOT.tmp"
  mkdir -m 0700 "$PKI_SNAPSHOT.tmp"
  cp -a "$PKI_DIR/." "$PKI_SNAPSHOT.tmp/"
  mv "$PKI_SNAPSHOT.tmp" "$PKI_SNAPSHOT"
}

kubeadm_reset() {
  kubeadm reset -f || log "kubeadm reset -f failed as well"
  if [[ -d "$PKI_SNAPSHOT" ]]; then
    mkdir -p "$PKI_DIR"
    cp -a "$PKI_SNAPSHOT/." "$PKI_DIR/"
  fi
}

# Copies a kubeadm configuration to TARGET (root only) with the version of the kubeadm that was
# installed where the plan was not pinned ("stable-<minor>", which kubeadm would resolve online).
kubeadm_config() {
  local source="$1" target="$2" version
  version="$(kubeadm version -o short)" || fail "kubeadm version failed"
  install -m 0600 /dev/null "$target"
  sed -E "s/^kubernetesVersion: \"stable-[0-9.]+\"\$/kubernetesVersion: \"$version\"/" "$source" >"$target"
}

# Curl options that trust the cluster CA where the node has it (control planes); a worker only probes
# readiness here, and kubeadm's discovery pins the CA by its hash before anything is trusted.
ca_options() {
  if [[ -s "$ROOT/etc/kubernetes/pki/ca.crt" ]]; then
    echo "--cacert $ROOT/etc/kubernetes/pki/ca.crt"
  else
    echo "--insecure"
  fi
}

# True when https://HOST:PORT/readyz answers 200 (anonymous access to /readyz is allowed by default).
readyz() {
  local options
  read -r -a options <<<"$(ca_options)"
  curl -fsS --connect-timeout 3 --max-time 5 "${options[@]}" -o /dev/null "https://$1/readyz" 2>/dev/null
}

endpoint_ready() {
  readyz "$PIIMAGE_ENDPOINT"
}

# True when something accepts TCP connections at HOST:PORT (a load balancer with no backend yet does).
accepts() {
  local host="${1%:*}" port="${1##*:}"
  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's arguments
  timeout 4 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null
}

endpoint_accepts() {
  accepts "$PIIMAGE_ENDPOINT"
}

# True when an existing cluster answers, at the endpoint or at any other planned control plane's
# apiserver (a re-flashed card of a running cluster must join it, never initialise a second one).
cluster_answers() {
  local entry address
  if endpoint_ready; then
    log "a cluster answers at https://$PIIMAGE_ENDPOINT/readyz"
    return 0
  fi
  for entry in "${PIIMAGE_CONTROL_PLANES[@]}"; do
    address="${entry#*=}"
    if [[ "$address" != "$PIIMAGE_ADDRESS" ]] && readyz "$address:$PIIMAGE_API_PORT"; then
      log "a cluster answers at https://$address:$PIIMAGE_API_PORT/readyz (${entry%%=*})"
      return 0
    fi
  done
  return 1
}

node_kubeconfig() {
  if [[ "$PIIMAGE_ROLE" == control-plane ]]; then
    echo "$ROOT/etc/kubernetes/admin.conf"
  else
    echo "$ROOT/etc/kubernetes/kubelet.conf"
  fi
}

node_registered() {
  kubectl --kubeconfig "$(node_kubeconfig)" get node "$PIIMAGE_NODE" -o name >/dev/null 2>&1
}

# Whether kubeadm already made this node part of the cluster (the phase was interrupted after
# kubeadm finished, e.g. by a power cut). A node kubeadm finished on is never reset automatically.
cluster_member() {
  if [[ -e "$KUBEADM_DONE" ]]; then
    wait_until 900 "this node ($PIIMAGE_NODE) to be registered in the cluster again" node_registered
    return 0
  fi
  if [[ -s "$(node_kubeconfig)" ]]; then
    # kubeadm ran here but was not seen to finish: keep what it made if the node is registered.
    if wait_until 300 "the interrupted kubeadm run's node registration" node_registered; then
      touch "$KUBEADM_DONE"
      return 0
    fi
    # shellcheck disable=SC2034 # the runner reports PIIMAGE_ERROR
    PIIMAGE_ERROR=""
    log "kubeadm was interrupted before this node registered; resetting it"
    kubeadm_reset
  fi
  return 1
}

# After a failed kubeadm step: undo it so that the next attempt starts clean.
kubeadm_failed() {
  local what="$1"
  log "$what failed; kubeadm reset -f"
  kubeadm_reset
  fail "$what failed (the node was reset and tries again)"
}
