package io.piimage.plan;

import io.piimage.plan.PlanReader.Draft;
import io.piimage.plan.PlanReader.NodeDraft;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link PlanRule}s that span sections, applied to what was read (docs/plan-format.md, "Rules").
 * Each rule looks only at values that could be read; a value that was missing or wrong is already reported.
 */
final class PlanRules {

    /** The apiserver's own port; kubeadm binds it on every address of a control plane. */
    static final int APISERVER_PORT = 6443;

    /** The prefix of the pod range the controller manager gives each node (its node-cidr-mask-size). */
    static final int NODE_CIDR_PREFIX = 24;

    /** What listens on every node piimage makes; HAProxy binds *:port, so it must avoid them all. */
    static final Map<Integer, String> NODE_PORTS = Map.of(22, "sshd");

    /**
     * What else listens on a kubeadm control plane (on some address, loopback included): stacked HAProxy
     * runs there. 6443 has its own message.
     */
    static final Map<Integer, String> CONTROL_PLANE_PORTS = Map.of(
            2379, "etcd (clients)", 2380, "etcd (peers)", 2381, "etcd (metrics)",
            10248, "kubelet (health)", 10249, "kube-proxy (metrics)", 10250, "kubelet",
            10256, "kube-proxy (health)", 10257, "kube-controller-manager", 10259, "kube-scheduler");

    private final Draft plan;
    private final Diagnostics diagnostics;
    private final Positions positions;

    PlanRules(Draft plan, Diagnostics diagnostics, Positions positions) {
        this.plan = plan;
        this.diagnostics = diagnostics;
        this.positions = positions;
    }

    void check() {
        kubernetesVersion();
        podSubnetSize();
        serviceSubnetSize();
        subnetsDoNotOverlap();
        gateway();
        vip();
        port();
        nodeNames();
        nodeAddresses();
        nodeModels();
        topology();
    }

    private void kubernetesVersion() {
        KubernetesVersion version = plan.kubernetesVersion;
        if (version == null || version.known()) {
            return;
        }
        Position at = positions.at("cluster.kubernetesVersion");
        if (!version.atLeast(1, KubernetesVersion.OLDEST_MINOR)) {
            report(PlanRule.KUBERNETES_VERSION_KNOWN, at, "cluster.kubernetesVersion: " + version
                    + " is too old; piimage needs 1.31 or newer (kubeadm config v1beta4)");
        } else {
            report(PlanRule.KUBERNETES_VERSION_KNOWN, at, "cluster.kubernetesVersion: " + version + " is not a Kubernetes release piimage knows"
                    + " how to install (1.31 to 1." + KubernetesVersion.NEWEST_MINOR + ")");
        }
    }

    /**
     * kubeadm turns on the controller manager's node ranges whenever podSubnet is set, and it cuts one /24
     * per node (node-cidr-mask-size 24): a narrower podSubnet stops the controller manager, one too small
     * for the nodes leaves the last ones without pod addresses.
     */
    private void podSubnetSize() {
        Cidr pods = plan.podSubnet;
        if (pods == null) {
            return;
        }
        Position at = positions.at("cluster.podSubnet", "cluster");
        String name = "cluster.podSubnet " + pods + defaultMark("cluster.podSubnet");
        if (pods.prefix() > NODE_CIDR_PREFIX) {
            report(PlanRule.POD_SUBNET_SIZE, at, name + " is narrower than /24: the controller manager gives each node a /24 of it;"
                    + " use /24 or wider (e.g. 10.244.0.0/16)");
            return;
        }
        long kubernetesNodes = plan.nodes.stream().filter(n -> n.role != null && n.role.isKubernetes()).count();
        long ranges = 1L << (NODE_CIDR_PREFIX - pods.prefix());
        if (kubernetesNodes > ranges) {
            report(PlanRule.POD_SUBNET_SIZE, at, name + " holds " + ranges + " node range(s) of /24, but the plan has " + kubernetesNodes
                    + " control-plane and worker nodes (each needs one); widen it");
        }
    }

    /**
     * The apiserver refuses a service range wider than /12 (2^20 addresses), and kubeadm gives the cluster
     * DNS service the 10th address of the range, so it must hold that one and a broadcast beyond it.
     */
    private void serviceSubnetSize() {
        Cidr services = plan.serviceSubnet;
        if (services == null) {
            return;
        }
        Position at = positions.at("cluster.serviceSubnet", "cluster");
        String name = "cluster.serviceSubnet " + services + defaultMark("cluster.serviceSubnet");
        if (services.prefix() < 12) {
            report(PlanRule.SERVICE_SUBNET_SIZE, at, name + " is wider than /12: the apiserver refuses a service range of more than"
                    + " 2^20 addresses; use /12 or narrower (e.g. 10.96.0.0/12)");
        } else if (services.prefix() > 28) {
            report(PlanRule.SERVICE_SUBNET_SIZE, at, name + " is too small: the cluster DNS service gets its 10th address ("
                    + new Ipv4(services.network().bits() + 10) + "), which needs at least a /28");
        }
    }

    private void subnetsDoNotOverlap() {
        record Range(String name, Cidr cidr) {
        }
        List<Range> ranges = new ArrayList<>();
        ranges.add(new Range("cluster.podSubnet", plan.podSubnet));
        ranges.add(new Range("cluster.serviceSubnet", plan.serviceSubnet));
        ranges.add(new Range("network.subnet", plan.subnet));
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                Range a = ranges.get(i);
                Range b = ranges.get(j);
                if (a.cidr() == null || b.cidr() == null || !a.cidr().overlaps(b.cidr())) {
                    continue;
                }
                // Point at the range the user wrote; a default cannot be pointed at.
                boolean aWritten = positions.has(a.name());
                report(PlanRule.SUBNETS_DISJOINT, positions.at(aWritten ? a.name() : b.name()), a.name() + " " + a.cidr() + defaultMark(a.name())
                        + " overlaps " + b.name() + " " + b.cidr() + defaultMark(b.name())
                        + ": pods, services and the node network each need their own address range");
            }
        }
    }

    private String defaultMark(String path) {
        return positions.has(path) ? "" : " (the default)";
    }

    /** Null when {@code address} can be a host of the node network, else why not. */
    private String hostProblem(Ipv4 address) {
        Cidr subnet = plan.subnet;
        if (subnet == null) {
            return null;
        }
        if (!subnet.contains(address)) {
            return " is outside network.subnet " + subnet;
        }
        // /31 and /32 have no network or broadcast address (RFC 3021).
        if (subnet.prefix() <= 30 && address.equals(subnet.network())) {
            return " is the network address of " + subnet + ", not a host address";
        }
        if (subnet.prefix() <= 30 && address.equals(subnet.broadcast())) {
            return " is the broadcast address of " + subnet + ", not a host address";
        }
        return null;
    }

    private void gateway() {
        if (plan.gateway == null) {
            return;
        }
        String problem = hostProblem(plan.gateway);
        if (problem != null) {
            report(PlanRule.GATEWAY_IN_SUBNET, positions.at("network.gateway"), "network.gateway " + plan.gateway + problem);
        }
    }

    private void vip() {
        if (plan.vip == null) {
            return;
        }
        Position at = positions.at("endpoint.vip");
        String problem = hostProblem(plan.vip);
        if (problem != null) {
            report(PlanRule.VIP_IN_SUBNET, at, "endpoint.vip " + plan.vip + problem);
        } else if (plan.vip.equals(plan.gateway)) {
            report(PlanRule.VIP_IN_SUBNET, at, "endpoint.vip " + plan.vip + " is network.gateway; the VIP must be a free address of the subnet");
        }
    }

    private void port() {
        if (plan.port == null || plan.loadBalancer == null) {
            return;
        }
        // A defaulted port has no place of its own: point at the topology that rules it out.
        Position at = positions.at("endpoint.port", "endpoint.loadBalancer");
        String port = "endpoint.port " + plan.port + defaultMark("endpoint.port");
        if (plan.loadBalancer == LoadBalancerMode.STACKED && plan.port == APISERVER_PORT) {
            report(PlanRule.PORT_FREE, at, port + " cannot be used with loadBalancer stacked: the apiserver holds 6443 on every"
                    + " control plane, so HAProxy there needs another port (e.g. 8443)");
        }
        if (plan.loadBalancer == LoadBalancerMode.VIP_ONLY && plan.port != APISERVER_PORT) {
            report(PlanRule.PORT_FREE, at, port + " cannot be used with loadBalancer vip-only: without HAProxy, clients reach"
                    + " the apiserver itself, which listens on 6443; set port: 6443");
        }
        if (plan.loadBalancer == LoadBalancerMode.VIP_ONLY) {
            return; // no HAProxy
        }
        String where = plan.loadBalancer == LoadBalancerMode.STACKED ? "the control planes" : "the load balancers";
        String taken = NODE_PORTS.get(plan.port);
        if (taken == null && plan.loadBalancer == LoadBalancerMode.STACKED) {
            taken = CONTROL_PLANE_PORTS.get(plan.port);
        }
        if (taken != null) {
            report(PlanRule.PORT_FREE, at, port + " is taken by " + taken + " on " + where + ", where HAProxy listens on it"
                    + " (loadBalancer " + plan.loadBalancer + "); pick another port (e.g. 8443)");
        }
    }

    private void nodeNames() {
        Map<String, NodeDraft> first = new HashMap<>();
        for (NodeDraft node : plan.nodes) {
            if (node.name == null) {
                continue;
            }
            NodeDraft earlier = first.putIfAbsent(node.name, node);
            if (earlier != null) {
                report(PlanRule.NODE_NAMES_UNIQUE, positions.at(node.path + ".name"), "node name '" + node.name
                        + "' is already used by the node at line " + positions.at(earlier.path + ".name").line()
                        + "; names must be unique");
            }
        }
    }

    private void nodeAddresses() {
        Map<Ipv4, NodeDraft> first = new HashMap<>();
        for (NodeDraft node : plan.nodes) {
            if (node.address == null) {
                continue;
            }
            Position at = positions.at(node.path + ".address");
            String address = node.label + " address " + node.address;
            NodeDraft earlier = first.putIfAbsent(node.address, node);
            String problem = hostProblem(node.address);
            if (earlier != null) {
                report(PlanRule.NODE_ADDRESSES, at, address + " is already used by " + earlier.label);
            } else if (problem != null) {
                report(PlanRule.NODE_ADDRESSES, at, address + problem);
            } else if (node.address.equals(plan.vip)) {
                report(PlanRule.NODE_ADDRESSES, at, address + " is the endpoint VIP; the VIP must be an address no node has");
            }
            if (node.role == Role.GATEWAY) {
                if (plan.gateway != null && !node.address.equals(plan.gateway)) {
                    report(PlanRule.NODE_ADDRESSES, at, "gateway " + address + " must equal network.gateway " + plan.gateway
                            + ": the other nodes route through it");
                }
            } else if (node.address.equals(plan.gateway)) {
                report(PlanRule.NODE_ADDRESSES, at, address + " is network.gateway; only a gateway node may have that address");
            }
        }
    }

    private void nodeModels() {
        for (NodeDraft node : plan.nodes) {
            if (node.role == Role.CONTROL_PLANE && node.model == PiModel.PI3) {
                report(PlanRule.PI3_CONTROL_PLANE, positions.at(node.path + ".model"), node.label + " is a pi3 control plane: a Raspberry Pi 3"
                        + " has 1 GiB of memory and kubeadm needs 1700 MB on a control plane; use a pi4 or pi5");
            }
        }
    }

    private void topology() {
        List<NodeDraft> controlPlanes = withRole(Role.CONTROL_PLANE);
        List<NodeDraft> loadBalancers = withRole(Role.LOAD_BALANCER);
        List<NodeDraft> gateways = withRole(Role.GATEWAY);
        List<NodeDraft> workers = withRole(Role.WORKER);
        boolean allRolesRead = plan.nodes.stream().allMatch(n -> n.role != null);
        Position nodesAt = positions.at("nodes");
        if (!plan.nodesRead) {
            return; // reported as missing or not a list
        }

        int count = controlPlanes.size();
        if (count == 0) {
            // A role that could not be read (a typo, already reported) may have been meant as a control plane.
            if (allRolesRead) {
                report(PlanRule.CONTROL_PLANE_PRESENT, nodesAt, "no control-plane node: a cluster needs at least one (three for high availability)");
            }
        } else if (count == 1) {
            report(PlanRule.SINGLE_CONTROL_PLANE, role(controlPlanes.get(0)), "only one control plane: the cluster is not highly available"
                    + " (three control planes survive the loss of one)");
        } else if (count % 2 == 0) {
            int tolerated = count / 2 - 1;
            report(PlanRule.CONTROL_PLANES_ODD, role(controlPlanes.get(count - 1)), "an even number of control planes (" + count
                    + ") is an error: etcd needs a majority of its members, so " + count + " control planes tolerate "
                    + (tolerated == 0 ? "no failure" : tolerated == 1 ? "only 1 failure" : "only " + tolerated + " failures")
                    + ", no more than " + (count - 1) + " do; use " + (count - 1) + " or " + (count + 1));
        }

        if (plan.loadBalancer == LoadBalancerMode.DEDICATED) {
            if (loadBalancers.isEmpty() && allRolesRead) {
                report(PlanRule.LOAD_BALANCERS_MATCH_MODE, positions.at("endpoint.loadBalancer"), "endpoint.loadBalancer is dedicated, but no node has role"
                        + " load-balancer; add one (two for failover), or use stacked or vip-only");
            } else if (loadBalancers.size() == 1) {
                report(PlanRule.SINGLE_LOAD_BALANCER, role(loadBalancers.get(0)), "only one load-balancer node: the load balancer is a single"
                        + " point of failure (add a second one for failover)");
            }
        } else if (plan.loadBalancer != null) {
            for (NodeDraft lb : loadBalancers) {
                report(PlanRule.LOAD_BALANCERS_MATCH_MODE, role(lb), lb.label + " has role load-balancer, but endpoint.loadBalancer is "
                        + plan.loadBalancer + ": the control planes hold the VIP themselves; remove the node or use dedicated");
            }
        }

        for (NodeDraft extra : gateways.subList(Math.min(1, gateways.size()), gateways.size())) {
            report(PlanRule.ONE_GATEWAY, role(extra), extra.label + " is a second gateway (" + gateways.get(0).label
                    + " is the first); a plan has at most one gateway");
        }
        if (!gateways.isEmpty()) {
            NodeDraft gw = gateways.get(0);
            String side = gw.interfaceName != null ? gw.interfaceName : plan.networkInterface;
            if (gw.uplink != null && gw.uplink.equals(side)) {
                report(PlanRule.ONE_GATEWAY, positions.at(gw.path + ".uplink"), gw.label + " uplink " + gw.uplink
                        + " is also its cluster-side interface; a gateway needs two (set interface: to the cluster side, e.g. eth1)");
            }
        }

        if (workers.isEmpty() && count > 0 && allRolesRead) {
            report(PlanRule.NO_WORKERS, nodesAt, "no worker nodes: control planes will run workloads; their NoSchedule taint is removed");
        }
    }

    private List<NodeDraft> withRole(Role role) {
        return plan.nodes.stream().filter(n -> n.role == role).toList();
    }

    private Position role(NodeDraft node) {
        return positions.at(node.path + ".role");
    }

    private void report(PlanRule rule, Position at, String message) {
        rule.report(diagnostics, at, message);
    }
}
