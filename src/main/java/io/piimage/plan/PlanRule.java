package io.piimage.plan;

import io.piimage.plan.Diagnostic.Severity;

/**
 * The plan's rules that look across keys, in one list with their severity: an {@link Severity#ERROR}
 * stops {@code check} and {@code bake} alike, a {@link Severity#WARNING} is printed by both and stops
 * neither. {@link PlanRules} applies them to what was read, {@link PlanLint} to the built plan (defaults
 * filled, router id derived); both report through {@link #report}, so a rule's severity is decided here
 * and nowhere else. docs/plan-format.md lists every rule by its {@link #id()} (a test checks that).
 */
public enum PlanRule {
    KUBERNETES_VERSION_KNOWN(Severity.ERROR, "cluster.kubernetesVersion is a minor piimage knows how to install"),
    POD_SUBNET_SIZE(Severity.ERROR, "cluster.podSubnet is /24 or wider and holds a /24 for every Kubernetes node"),
    SERVICE_SUBNET_SIZE(Severity.ERROR, "cluster.serviceSubnet is /12 to /28"),
    SUBNETS_DISJOINT(Severity.ERROR, "podSubnet, serviceSubnet and network.subnet do not overlap"),
    GATEWAY_IN_SUBNET(Severity.ERROR, "network.gateway is a host address of network.subnet"),
    VIP_IN_SUBNET(Severity.ERROR, "endpoint.vip is a host address of network.subnet and not the gateway"),
    PORT_FREE(Severity.ERROR, "endpoint.port suits the load-balancer mode (stacked: not 6443; vip-only: 6443)"
            + " and no other service listens on it where HAProxy runs"),
    NODE_NAMES_UNIQUE(Severity.ERROR, "node names are unique"),
    NODE_ADDRESSES(Severity.ERROR, "node addresses are unique host addresses of network.subnet, not the VIP; only a gateway"
            + " node has network.gateway's address, and a gateway node has exactly that address"),
    PI3_CONTROL_PLANE(Severity.ERROR, "no control plane is a pi3 (1 GiB is too little for etcd and the apiserver)"),
    CONTROL_PLANE_PRESENT(Severity.ERROR, "there is at least one control plane"),
    CONTROL_PLANES_ODD(Severity.ERROR, "the number of control planes is odd (etcd's quorum)"),
    SINGLE_CONTROL_PLANE(Severity.WARNING, "one control plane is not highly available"),
    LOAD_BALANCERS_MATCH_MODE(Severity.ERROR, "load-balancer nodes exist exactly when endpoint.loadBalancer is dedicated"),
    SINGLE_LOAD_BALANCER(Severity.WARNING, "one load-balancer node is a single point of failure"),
    ONE_GATEWAY(Severity.ERROR, "at most one gateway node, and its uplink differs from its cluster-side interface"),
    NO_WORKERS(Severity.WARNING, "without workers the control planes run workloads (their NoSchedule taint is removed)"),
    TUTORIAL_ROUTER_ID(Severity.WARNING, "endpoint.vrrp.routerId is not 51, keepalived's sample default"),
    PI3_WORKER(Severity.WARNING, "a pi3 worker has little memory left for pods"),
    PODS_CAN_SCHEDULE(Severity.WARNING, "without workers, not every control plane keeps pods off with a taint"),
    DNS_OUTSIDE_CLUSTER_RANGES(Severity.ERROR, "no name server lies inside podSubnet or serviceSubnet"),
    HOME_LAN_RANGE(Severity.WARNING, "podSubnet and serviceSubnet avoid 192.168.0.0/16 (most home LANs) unless the node"
            + " network is there itself"),
    KEY_ALGORITHM_VERSION(Severity.ERROR, "keyAlgorithm ecdsa-p384 needs Kubernetes 1.34 or newer");

    private final Severity severity;
    private final String summary;

    PlanRule(Severity severity, String summary) {
        this.severity = severity;
        this.summary = summary;
    }

    public Severity severity() {
        return severity;
    }

    /** What the rule wants, in one line (docs/plan-format.md says the same). */
    public String summary() {
        return summary;
    }

    /** "pod-subnet-size": how docs/plan-format.md names the rule. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    void report(Diagnostics diagnostics, Position at, String message) {
        if (severity == Severity.ERROR) {
            diagnostics.error(at, message);
        } else {
            diagnostics.warning(at, message);
        }
    }
}
