# shellcheck shell=bash
# The cluster-wide join lock for control planes (sourced by the runner).
#
# etcd admits one learner at a time, so two control planes running `kubeadm join` at once make one of
# them fail ("too many learner members in cluster"). Joins are serialised by a lock kept in the
# cluster's own etcd, reached through etcd's JSON gateway over HTTPS with the prebaked client
# certificate (/etc/piimage/pki/etcd-client.*, signed by the etcd CA):
#  - the lock is the key piimage/join-lock, created only if absent (a transaction comparing its
#    create_revision with 0) and attached to a lease of PIIMAGE_LOCK_TTL seconds;
#  - the holder keeps the lease alive while it joins; if it dies (power cut, crash) the lease lapses
#    and etcd deletes the key within the TTL, so the lock can never be held by a dead node for long;
#  - a planned control plane that never boots never takes the lock, so it blocks nobody;
#  - holding the lock, the joiner first removes what a dead previous holder may have left in the
#    member list (a learner, a member that never started, or a member with this node's own peer URL
#    from a card that was re-flashed): no one else may be joining while the lock is held.

ETCD_CA="$ROOT/etc/kubernetes/pki/etcd/ca.crt"
ETCD_CERT="$ROOT/etc/piimage/pki/etcd-client.crt"
ETCD_KEY="$ROOT/etc/piimage/pki/etcd-client.key"
LOCK_NAME="piimage/join-lock"
LOCK_LEASE=""
LOCK_KEEPALIVE_PID=""
ETCD_LAST_GOOD=""
LOCK_ACQUIRED_US=""

# Microseconds since the epoch (EPOCHREALTIME's separator follows the locale).
now_us() {
  echo "${EPOCHREALTIME//[.,]/}"
}

b64() {
  printf '%s' "$1" | base64 -w0
}

# etcd_post PATH JSON: POSTs to the etcd JSON gateway of the first planned control plane that
# answers (the last one that did first) and prints the response.
etcd_post() {
  local path="$1" body="$2" entry address candidates=()
  if [[ -n "$ETCD_LAST_GOOD" ]]; then
    candidates+=("$ETCD_LAST_GOOD")
  fi
  for entry in "${PIIMAGE_CONTROL_PLANES[@]}"; do
    address="${entry#*=}"
    if [[ "$address" != "$ETCD_LAST_GOOD" ]]; then
      candidates+=("$address")
    fi
  done
  for address in "${candidates[@]}"; do
    if curl -fsS --connect-timeout 2 --max-time 10 --cacert "$ETCD_CA" --cert "$ETCD_CERT" --key "$ETCD_KEY" \
      -X POST "https://$address:2379$path" -d "$body" 2>/dev/null; then
      ETCD_LAST_GOOD="$address"
      return 0
    fi
  done
  return 1
}

join_lock_acquire() {
  local ttl="${PIIMAGE_LOCK_TTL:-60}" response key value holder holder_lease
  key="$(b64 "$LOCK_NAME")"
  value="$(b64 "$PIIMAGE_NODE")"
  at_exit join_lock_release
  join_lock_new_lease "$ttl"

  local txn start=$SECONDS last_holder="" next_note=0
  while true; do
    txn="{\"compare\":[{\"key\":\"$key\",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
    txn+="\"success\":[{\"request_put\":{\"key\":\"$key\",\"value\":\"$value\",\"lease\":\"$LOCK_LEASE\"}}],"
    txn+="\"failure\":[{\"request_range\":{\"key\":\"$key\"}}]}"
    if response="$(etcd_post /v3/kv/txn "$txn")"; then
      if [[ "$(jq -r '.succeeded // false' <<<"$response")" == true ]]; then
        LOCK_ACQUIRED_US="$(now_us)"
        log "join lock acquired (lease $LOCK_LEASE, ttl ${ttl}s) after $((SECONDS - start))s"
        return 0
      fi
      holder="$(jq -r '.responses[0].response_range.kvs[0].value // empty' <<<"$response" | base64 -d 2>/dev/null || true)"
      holder_lease="$(jq -r '.responses[0].response_range.kvs[0].lease // empty' <<<"$response")"
      if [[ "$holder" == "$PIIMAGE_NODE" && -n "$holder_lease" && "$holder_lease" != "$LOCK_LEASE" ]]; then
        # An earlier run of this very node held it and died: no need to wait for its lease to lapse.
        log "join lock still held by an earlier run of this node; revoking its lease $holder_lease"
        etcd_post /v3/lease/revoke "{\"ID\": \"$holder_lease\"}" >/dev/null || true
        continue
      fi
      if [[ "$holder" != "$last_holder" || $SECONDS -ge $next_note ]]; then
        log "join lock held by ${holder:-?}; waiting (a dead holder's lease lapses within ${ttl}s)"
        last_holder="$holder"
        next_note=$((SECONDS + 30))
      fi
    elif ! join_lock_lease_alive; then
      log "our lease $LOCK_LEASE lapsed while waiting; taking a new one"
      join_lock_new_lease "$ttl"
    else
      log "no etcd member answers; retrying"
    fi
    if ((SECONDS - start >= ${PIIMAGE_LOCK_WAIT:-3600})); then
      fail "gave up after ${PIIMAGE_LOCK_WAIT:-3600}s waiting for the join lock (held by ${holder:-?})"
    fi
    sleep "$((1 + RANDOM % 3))"
  done
}

# A lease of TTL seconds, kept alive by a background loop (replacing an earlier one of this run).
join_lock_new_lease() {
  local ttl="$1" response
  if [[ -n "$LOCK_KEEPALIVE_PID" ]]; then
    kill "$LOCK_KEEPALIVE_PID" 2>/dev/null || true
    wait "$LOCK_KEEPALIVE_PID" 2>/dev/null || true
  fi
  response="$(etcd_post /v3/lease/grant "{\"TTL\": $ttl}")" \
    || fail "no etcd member of the cluster answers on :2379 (control planes: ${PIIMAGE_CONTROL_PLANES[*]})"
  LOCK_LEASE="$(jq -r '.ID' <<<"$response")"
  [[ "$LOCK_LEASE" =~ ^[0-9]+$ ]] || fail "etcd granted no lease: $response"
  join_lock_keepalive "$ttl" &
  LOCK_KEEPALIVE_PID=$!
}

join_lock_lease_alive() {
  local response
  response="$(etcd_post /v3/lease/timetolive "{\"ID\": \"$LOCK_LEASE\"}")" || return 0
  [[ "$(jq -r '.TTL // "-1"' <<<"$response")" != -1 ]]
}

# Runs in the background while the lock is held or awaited; stops when the runner is gone, so the
# lease of a killed runner lapses.
join_lock_keepalive() {
  local ttl="$1"
  while kill -0 "$RUNNER_PID" 2>/dev/null; do
    etcd_post /v3/lease/keepalive "{\"ID\": \"$LOCK_LEASE\"}" >/dev/null || true
    sleep "$(((ttl + 2) / 3))"
  done
}

join_lock_release() {
  if [[ -n "$LOCK_KEEPALIVE_PID" ]]; then
    kill "$LOCK_KEEPALIVE_PID" 2>/dev/null || true
    wait "$LOCK_KEEPALIVE_PID" 2>/dev/null || true
    LOCK_KEEPALIVE_PID=""
  fi
  if [[ -n "$LOCK_LEASE" ]]; then
    local held=""
    if [[ -n "$LOCK_ACQUIRED_US" ]]; then
      # The serialized part of the assembly: how long this node kept every other joiner waiting.
      held=$((($(now_us) - LOCK_ACQUIRED_US) / 1000))
      held=" (held $((held / 1000)).$(printf '%03d' $((held % 1000))) s)"
      LOCK_ACQUIRED_US=""
    fi
    if etcd_post /v3/lease/revoke "{\"ID\": \"$LOCK_LEASE\"}" >/dev/null; then
      log "join lock released$held"
    else
      log "could not revoke lease $LOCK_LEASE; the lock lapses within ${PIIMAGE_LOCK_TTL:-60}s"
    fi
    LOCK_LEASE=""
  fi
}

# Holding the lock: removes members a dead earlier joiner left behind, then checks that every
# remaining member is a started voting member.
join_membership_ready() {
  local members stale id name own="https://$PIIMAGE_ADDRESS:2380"
  members="$(etcd_post /v3/cluster/member/list '{}')" || fail "cannot list the etcd members"
  stale="$(jq -r --arg own "$own" '.members[]
      | select((.isLearner // false) or ((.name // "") == "") or ((.peerURLs // []) | index($own)))
      | "\(.ID) \(.name // "(never started)")"' <<<"$members")"
  while read -r id name; do
    [[ -n "$id" ]] || continue
    log "removing etcd member $id ($name): a learner, a never-started member or this node's own old member, left by an interrupted join"
    etcd_post /v3/cluster/member/remove "{\"ID\": \"$id\"}" >/dev/null || fail "cannot remove stale etcd member $id ($name)"
  done <<<"$stale"
  members="$(etcd_post /v3/cluster/member/list '{}')" || fail "cannot list the etcd members"
  if jq -e '[.members[] | select((.isLearner // false) or ((.name // "") == ""))] | length > 0' <<<"$members" >/dev/null; then
    fail "etcd still has a learner or an unstarted member; not joining now"
  fi
  log "etcd members before joining: $(jq -r '[.members[].name] | join(", ")' <<<"$members")"
}

# After kubeadm join: this node must be a voting member now (kubeadm promotes its learner).
join_member_is_voter() {
  local members own="https://$PIIMAGE_ADDRESS:2380"
  members="$(etcd_post /v3/cluster/member/list '{}')" || return 1
  jq -e --arg own "$own" '[.members[] | select(((.peerURLs // []) | index($own)) and ((.isLearner // false) | not))] | length == 1' \
    <<<"$members" >/dev/null
}

# Removes this node's own member (after a failed join), if it exists.
join_drop_own_member() {
  local members id own="https://$PIIMAGE_ADDRESS:2380"
  members="$(etcd_post /v3/cluster/member/list '{}')" || return 0
  for id in $(jq -r --arg own "$own" '.members[] | select((.peerURLs // []) | index($own)) | .ID' <<<"$members"); do
    log "removing this node's etcd member $id after the failed join"
    etcd_post /v3/cluster/member/remove "{\"ID\": \"$id\"}" >/dev/null || true
  done
}
