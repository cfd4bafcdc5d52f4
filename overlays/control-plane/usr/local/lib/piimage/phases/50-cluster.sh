# shellcheck shell=bash
# Phase 50-cluster (control planes): become part of the cluster.
#  - first, with nothing held, it pulls the images kubeadm and the CNI need (see pull_images);
#  - the first control plane of the plan waits until the endpoint accepts connections (its load
#    balancer is up), then initialises the cluster with `kubeadm init` -- unless a cluster already
#    answers (this card was re-flashed), which it joins like any other control plane; after init it
#    waits for the endpoint's /readyz (the load balancer puts the new apiserver in rotation), then
#    deletes the bootstrap token init made (every node joins with its own join certificate, in
#    /etc/piimage/kubeadm/discovery.conf), installs the CNI and starts the join watch (labels);
#  - every other control plane waits for the endpoint's /readyz, takes the join lock (etcd) and runs
#    `kubeadm join` with its JoinConfiguration (controlPlane section: a control-plane join; with
#    --config kubeadm does not accept the --control-plane flag itself), then releases the lock;
#  - a first control plane whose card carries an etcd snapshot (bake --restore-from) restores it into
#    /var/lib/etcd before kubeadm init, which then runs over the existing data (see restore_snapshot);
#  - every control plane then enables its maintenance timers (etcd snapshots, certificate renewal).
# A failed kubeadm step is undone with `kubeadm reset -f`; the runner backs off and retries.
# shellcheck source=/dev/null
. "$ROOT/etc/piimage/kubernetes.env"
# shellcheck source=/dev/null
. "$ROOT/usr/local/lib/piimage/cluster.sh"
# shellcheck source=/dev/null
. "$ROOT/usr/local/lib/piimage/join-lock.sh"
# shellcheck source=/dev/null
. "$ROOT/usr/local/lib/piimage/snapshot.sh"

CRI_SOCKET=unix:///var/run/containerd/containerd.sock

phase_cluster() {
  pki_snapshot
  if cluster_member; then
    log "kubeadm finished on this node earlier; it is part of the cluster"
  else
    # Downloads first, while nothing is held: the join lock then covers kubeadm join alone.
    pull_images
    become_member
  fi
  if [[ -e "$STATE_DIR/initialised" ]]; then
    # Right after init the endpoint accepts connections but has no apiserver behind it yet: HAProxy
    # puts this one in rotation after two good /healthz checks, and with vip-only the VIP follows the
    # apiserver's health. Wait for that instead of failing the phase and backing off.
    wait_until "$PIIMAGE_READY_WAIT" "https://$PIIMAGE_ENDPOINT/readyz" endpoint_ready
    delete_bootstrap_token
    install_cni
  fi
  if [[ "$PIIMAGE_FIRST_CONTROL_PLANE" == yes ]]; then
    systemctl enable --now piimage-join-watch.timer || fail "cannot start the join watch"
  fi
  # Day-2 care of every control plane: daily etcd snapshots and certificate renewal (both wait for
  # /var/lib/piimage/done, i.e. the end of the first boot, before they do anything).
  systemctl enable --now piimage-etcd-snapshot.timer piimage-cert-renew.timer \
    || fail "cannot start the maintenance timers (etcd snapshots, certificate renewal)"
}

become_member() {
  if [[ "$PIIMAGE_FIRST_CONTROL_PLANE" == yes ]]; then
    if [[ "$PIIMAGE_LOAD_BALANCER" != vip-only ]]; then
      # vip-only: the VIP only comes up on a node with a healthy apiserver, i.e. after init.
      wait_until "$PIIMAGE_ENDPOINT_WAIT" "$PIIMAGE_ENDPOINT to accept connections" endpoint_accepts \
        || log "the endpoint does not accept connections yet; looking for a running cluster anyway"
    fi
    if cluster_answers; then
      log "this card joins the running cluster instead of initialising a new one (re-flashed)"
      join_control_plane
    else
      init_cluster
    fi
  else
    wait_until "$PIIMAGE_READY_WAIT" "https://$PIIMAGE_ENDPOINT/readyz" endpoint_ready
    join_control_plane
  fi
}

# Every download that does not need the cluster: the control plane's images for the installed
# version (pulled through containerd, so the plan's registry mirrors apply) and the images the CNI
# manifest names (the first control plane has it). kubeadm init/join then finds them present instead
# of pulling them in its preflight, inside the join lock. Bounded and retried like the other waits.
pull_images() {
  local version image started=$SECONDS
  version="$(kubeadm version -o short)" || fail "kubeadm version failed"
  wait_until "$PIIMAGE_PULL_WAIT" "the images of Kubernetes $version" \
    kubeadm config images pull --kubernetes-version "$version" --cri-socket "$CRI_SOCKET"
  for image in $(cni_images); do
    wait_until "$PIIMAGE_PULL_WAIT" "image $image" crictl pull "$image"
  done
  log "images: pulled in $((SECONDS - started))s, before any lock"
}

cni_images() {
  local manifest="$ROOT/etc/piimage/cni/$PIIMAGE_CNI.yaml"
  if [[ -f "$manifest" ]]; then
    sed -n -E 's/^[[:space:]]*image:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\1/p' "$manifest" | sort -u
  fi
}

init_cluster() {
  local config="$STATE_DIR/kubeadm-init.yaml" ignore=()
  kubeadm_config "$ROOT/etc/piimage/kubeadm/init.yaml" "$config"
  if restore_snapshot; then
    # kubeadm's documented way to initialise over restored etcd data.
    ignore=(--ignore-preflight-errors=DirAvailable--var-lib-etcd)
  fi
  log "kubeadm init (Kubernetes $(kubeadm version -o short), endpoint $PIIMAGE_ENDPOINT)"
  kubeadm init --config "$config" "${ignore[@]}" || kubeadm_failed "kubeadm init"
  if [[ -e "$RESTORE_FILE" ]]; then
    # The snapshot holds every Secret of the cluster: it leaves the FAT boot partition once used.
    shred -u "$RESTORE_FILE" 2>/dev/null || rm -f "$RESTORE_FILE"
    log "removed the etcd snapshot from the boot partition"
  fi
  touch "$KUBEADM_DONE" "$STATE_DIR/initialised"
  log "kubeadm init: done"
}

join_control_plane() {
  join_lock_acquire
  join_membership_ready
  log "kubeadm join (control plane, advertising $PIIMAGE_ADDRESS)"
  if ! kubeadm join --config "$ROOT/etc/piimage/kubeadm/join.yaml"; then
    kubeadm_reset
    join_drop_own_member
    fail "kubeadm join failed (the node was reset and tries again)"
  fi
  touch "$KUBEADM_DONE"
  join_member_is_voter || log "warning: this node is not (yet) a voting etcd member"
  join_lock_release
  log "kubeadm join: done"
}

RESTORE_FILE="$BOOT_DIR/piimage-restore.db"

# bake --restore-from puts an etcd snapshot on the first control plane's boot partition. Before kubeadm
# init it is checked (bbolt database, SHA-256 trailer) and restored into a new /var/lib/etcd with
# etcdutl from the etcd image kubeadm runs (pulled above; a kubeadm node has no etcd tools), as this
# node's single member with the name and peer URL kubeadm's etcd manifest gives it. Every attempt
# restores afresh (a failed init is reset, which empties /var/lib/etcd). Returns 1 without a snapshot.
restore_snapshot() {
  local copy="$STATE_DIR/restore.db" version image
  [[ -f "$RESTORE_FILE" ]] || return 1
  snapshot_complete "$RESTORE_FILE" \
    || fail "$RESTORE_FILE is not a complete etcd snapshot (bbolt database with its SHA-256); bake again with a good one"
  version="$(kubeadm version -o short)" || fail "kubeadm version failed"
  image="$(kubeadm config images list --kubernetes-version "$version" | grep -m1 '/etcd:')" \
    || fail "kubeadm names no etcd image for $version"
  install -m 0600 "$RESTORE_FILE" "$copy"
  rm -rf "$ROOT/var/lib/etcd"
  log "restoring etcd from the card's snapshot ($(stat -c %s "$copy") bytes) with etcdutl of $image"
  ctr -n k8s.io run --rm --net-host \
    --mount "type=bind,src=$ROOT/var/lib,dst=/var/lib,options=rbind:rw" \
    "$image" "piimage-restore-$$" etcdutl snapshot restore /var/lib/piimage/restore.db \
    --data-dir /var/lib/etcd --name "$PIIMAGE_NODE" \
    --initial-cluster "$PIIMAGE_NODE=https://$PIIMAGE_ADDRESS:2380" \
    --initial-advertise-peer-urls "https://$PIIMAGE_ADDRESS:2380" \
    || fail "etcdutl snapshot restore failed"
  rm -f "$copy"
  log "etcd restored into /var/lib/etcd; kubeadm init runs over it"
}

# kubeadm init always makes a bootstrap token (its bootstrap-token phase also creates the RBAC that
# join certificates rely on). No node needs it: every card joins with its own short-lived join
# certificate. So it goes right after init; "not found" on a second run means it is already gone.
delete_bootstrap_token() {
  local id output listed kubeconfig="$ROOT/etc/kubernetes/admin.conf"
  [[ ! -e "$STATE_DIR/token-deleted" ]] || return 0
  id="$(cut -d. -f1 "$ROOT/etc/piimage/bootstrap-token")"
  if ! output="$(kubeadm token delete --kubeconfig "$kubeconfig" "$id" 2>&1)"; then
    # Gone only if the cluster says so: right after init the endpoint may not answer yet (vip-only:
    # the VIP follows the apiserver's health), and a list that failed proves nothing.
    listed="$(kubeadm token list --kubeconfig "$kubeconfig" 2>&1)" \
      || fail "cannot delete the bootstrap token $id (the cluster does not answer yet): $output"
    if grep -q "^$id\." <<<"$listed"; then
      fail "cannot delete the bootstrap token $id: $output"
    fi
  fi
  touch "$STATE_DIR/token-deleted"
  log "bootstrap token $id deleted: nodes join with their own join certificates"
}

install_cni() {
  local kubeconfig="$ROOT/etc/kubernetes/admin.conf"
  case "$PIIMAGE_CNI" in
    flannel)
      kubectl --kubeconfig "$kubeconfig" apply -f "$ROOT/etc/piimage/cni/flannel.yaml" \
        || fail "kubectl apply of flannel failed"
      ;;
    calico)
      # The operator's manifests (CRDs included) are too large for a client-side apply.
      local url
      while read -r url; do
        [[ -n "$url" && "$url" != \#* ]] || continue
        wait_until 600 "$url" kubectl --kubeconfig "$kubeconfig" apply --server-side --force-conflicts -f "$url"
      done <"$ROOT/etc/piimage/cni/calico-operator-urls"
      wait_until 300 "the Calico Installation resource (needs the operator's CRDs)" \
        kubectl --kubeconfig "$kubeconfig" apply -f "$ROOT/etc/piimage/cni/calico.yaml"
      ;;
    none)
      log "cni: none in the plan; install one yourself"
      return 0
      ;;
  esac
  log "cni: $PIIMAGE_CNI applied"
}
