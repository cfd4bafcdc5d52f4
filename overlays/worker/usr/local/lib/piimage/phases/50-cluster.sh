# shellcheck shell=bash
# Phase 50-cluster (workers): wait for the endpoint's /readyz, then `kubeadm join` with the
# JoinConfiguration (file discovery: the node's join certificate and the cluster CA in
# /etc/piimage/kubeadm/discovery.conf; no bootstrap token). Workers add no etcd
# member, so they need no lock. A failed join is undone with `kubeadm reset -f` and retried.
# shellcheck source=/dev/null
. "$ROOT/etc/piimage/kubernetes.env"
# shellcheck source=/dev/null
. "$ROOT/usr/local/lib/piimage/cluster.sh"

phase_cluster() {
  pki_snapshot
  if cluster_member; then
    log "kubeadm finished on this node earlier; it is part of the cluster"
    return 0
  fi
  wait_until "$PIIMAGE_READY_WAIT" "https://$PIIMAGE_ENDPOINT/readyz" endpoint_ready
  log "kubeadm join (worker)"
  kubeadm join --config "$ROOT/etc/piimage/kubeadm/join.yaml" || kubeadm_failed "kubeadm join"
  touch "$KUBEADM_DONE"
  log "kubeadm join: done"
}
