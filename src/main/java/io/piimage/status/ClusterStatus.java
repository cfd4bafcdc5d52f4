package io.piimage.status;

import java.time.Instant;
import java.util.List;

/**
 * What one probe of a cluster found, compared with its plan. {@link #ok()} only when every check
 * passed: the VIP answers, every apiserver is ready, every planned node is registered and Ready, every
 * control plane is a voting etcd member, and no certificate has expired.
 */
public record ClusterStatus(
        String cluster,
        Instant probedAt,
        List<Check> checks,
        List<NodeState> nodes,
        List<EtcdMember> etcdMembers,
        List<CertificateExpiry> certificates) {

    public ClusterStatus {
        checks = List.copyOf(checks);
        nodes = List.copyOf(nodes);
        etcdMembers = List.copyOf(etcdMembers);
        certificates = List.copyOf(certificates);
    }

    public enum Level {
        OK, WARN, FAIL;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One line of the report: what was checked, how it went, and the detail a human needs. */
    public record Check(String name, Level level, String detail) {
    }

    /** A planned Kubernetes node: registered with the apiserver? Ready? */
    public record NodeState(String name, String role, boolean registered, boolean ready, String detail) {
    }

    /** An etcd member as the member list reports it; {@code name} is empty until the member has started. */
    public record EtcdMember(String id, String name, boolean learner, List<String> clientUrls) {
        public EtcdMember {
            clientUrls = List.copyOf(clientUrls);
        }
    }

    public record CertificateExpiry(String what, String subject, Instant notAfter, Level level) {
    }

    public boolean ok() {
        return checks.stream().noneMatch(c -> c.level() == Level.FAIL);
    }

    public List<Check> failures() {
        return checks.stream().filter(c -> c.level() == Level.FAIL).toList();
    }

    /** Planned nodes not registered yet. */
    public List<String> missingNodes() {
        return nodes.stream().filter(n -> !n.registered()).map(NodeState::name).toList();
    }

    /** Planned nodes registered but not Ready. */
    public List<String> notReadyNodes() {
        return nodes.stream().filter(n -> n.registered() && !n.ready()).map(NodeState::name).toList();
    }
}
