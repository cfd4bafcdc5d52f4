package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;
import io.piimage.util.Quoting;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A commented starter plan ({@code piimage init}): the seeds' topology by default (a gateway Pi, two
 * load balancers holding the VIP, three control planes, two workers on 192.168.3.0/24), shaped by the
 * common choices. Addresses follow the seeds (VIP .240, load balancers .241.., control planes .251..,
 * workers .11..) when they fit, and are otherwise handed out in order; an address the user gave is never
 * handed out twice. The text passes {@code piimage check} when it has at least one SSH key.
 */
public final class StarterPlan {

    /** The Kubernetes minor a new plan starts with. */
    public static final String DEFAULT_KUBERNETES_VERSION = "1.34";

    /** The choices {@code piimage init} offers; null fields take the defaults described in the class doc. */
    public record Options(
            String name,
            String kubernetesVersion,
            int controlPlanes,
            int workers,
            LoadBalancerMode loadBalancer,
            Integer loadBalancers,
            Ipv4 vip,
            Integer port,
            Cidr subnet,
            Ipv4 gateway,
            boolean gatewayNode,
            String image,
            KeyAlgorithm keyAlgorithm,
            List<String> sshKeys) {

        public Options {
            sshKeys = List.copyOf(sshKeys);
        }

        public static Options defaults() {
            return new Options("makina", DEFAULT_KUBERNETES_VERSION, 3, 2, LoadBalancerMode.DEDICATED, null, null, null,
                    Cidr.parse("192.168.3.0/24"), null, true, PlanFormat.DEFAULT_IMAGE, PlanFormat.DEFAULT_KEY_ALGORITHM, List.of());
        }
    }

    private StarterPlan() {
    }

    /** The plan text; throws IllegalArgumentException (a user-facing reason) when the choices cannot work. */
    public static String render(Options o) {
        Objects.requireNonNull(o.name(), "name");
        if (!Syntax.isDnsLabel(o.name())) {
            throw new IllegalArgumentException("cluster name '" + o.name() + "' is not a DNS-1123 label (a-z, 0-9, '-', at most 63)");
        }
        if (o.controlPlanes() < 1) {
            throw new IllegalArgumentException("a cluster needs at least one control plane");
        }
        if (o.controlPlanes() % 2 == 0) {
            throw new IllegalArgumentException(o.controlPlanes() + " control planes: use an odd number (etcd quorum: "
                    + o.controlPlanes() + " tolerate no more failures than " + (o.controlPlanes() - 1) + ")");
        }
        if (o.workers() < 0) {
            throw new IllegalArgumentException("--workers cannot be negative");
        }
        LoadBalancerMode mode = o.loadBalancer();
        int lbCount = o.loadBalancers() != null ? o.loadBalancers() : mode == LoadBalancerMode.DEDICATED ? 2 : 0;
        if (mode == LoadBalancerMode.DEDICATED && lbCount < 1) {
            throw new IllegalArgumentException("a dedicated load balancer needs at least one load-balancer node");
        }
        if (mode != LoadBalancerMode.DEDICATED && lbCount > 0) {
            throw new IllegalArgumentException("--load-balancers: " + mode + " runs the load balancing on the control planes; "
                    + "load-balancer nodes need --load-balancer dedicated");
        }
        int port = o.port() != null ? o.port() : mode == LoadBalancerMode.STACKED ? 8443 : 6443;
        if (mode == LoadBalancerMode.STACKED && port == 6443) {
            throw new IllegalArgumentException("stacked: the apiserver holds 6443 on every control plane; give HAProxy another --port (e.g. 8443)");
        }
        if (mode == LoadBalancerMode.VIP_ONLY && port != 6443) {
            throw new IllegalArgumentException("vip-only: clients reach the apiserver itself, so --port must be 6443");
        }
        KubernetesVersion version = KubernetesVersion.parse(o.kubernetesVersion());
        if (!version.known()) {
            throw new IllegalArgumentException("Kubernetes " + version + ": piimage installs 1." + KubernetesVersion.OLDEST_MINOR
                    + " to 1." + KubernetesVersion.NEWEST_MINOR);
        }

        Cidr subnet = o.subnet();
        Addresses addresses = new Addresses(subnet);
        Ipv4 gateway = o.gateway() != null ? addresses.take(o.gateway(), "--gateway") : addresses.next(1);
        Ipv4 vip = o.vip() != null ? addresses.take(o.vip(), "--vip") : null;
        boolean seedLayout = subnet.prefix() <= 24 && lbCount <= 9 && o.controlPlanes() <= 4 && o.workers() <= 200;
        if (vip == null) {
            vip = addresses.next(seedLayout ? 240 : 2);
        }
        List<String[]> nodes = new ArrayList<>();
        if (o.gatewayNode()) {
            nodes.add(new String[] {"gw", "gateway", gateway.toString()});
        }
        for (int i = 1; i <= lbCount; i++) {
            nodes.add(new String[] {"lb" + i, "load-balancer", addresses.next(seedLayout ? 241 : 2).toString()});
        }
        for (int i = 1; i <= o.controlPlanes(); i++) {
            nodes.add(new String[] {"master" + i, "control-plane", addresses.next(seedLayout ? 251 : 2).toString()});
        }
        for (int i = 1; i <= o.workers(); i++) {
            nodes.add(new String[] {"worker" + i, "worker", addresses.next(seedLayout ? 11 : 2).toString()});
        }

        StringBuilder y = new StringBuilder();
        y.append("# piimage cluster plan, written by `piimage init`.\n");
        y.append("# Next: piimage check plan.yaml   (every error and warning at once)\n");
        y.append("#       piimage bake plan.yaml    (one set of cloud-init seed files per node)\n");
        y.append("# The format is piimage/v1 (docs/plan-format.md); `piimage schema` prints a JSON Schema for editors.\n");
        y.append("apiVersion: piimage/v1\n\n");

        y.append("cluster:\n");
        line(y, "  name: " + o.name(), "DNS-1123 label: a-z, 0-9 and '-'");
        line(y, "  kubernetesVersion: \"" + version + "\"", version.pinned()
                ? "pinned patch release" : "newest " + version + " patch at first boot; \"" + version + ".1\" would pin it");
        line(y, "  # podSubnet: " + PlanFormat.DEFAULT_POD_SUBNET, "the default; must not overlap network.subnet");
        line(y, "  # serviceSubnet: " + PlanFormat.DEFAULT_SERVICE_SUBNET, "the default");
        line(y, "  cni: " + PlanFormat.DEFAULT_CNI.key(), choices(PlanFormat.CLUSTER, "cni"));
        line(y, "  keyAlgorithm: " + o.keyAlgorithm().key(), choices(PlanFormat.CLUSTER, "keyAlgorithm") + " (ecdsa-p384: Kubernetes >= 1.34)");
        y.append('\n');

        y.append("endpoint:                                # what kubectl and every node talk to\n");
        line(y, "  vip: " + vip, "a virtual IP no Pi owns: keepalived moves it to a healthy host");
        line(y, "  port: " + port, switch (mode) {
            case DEDICATED -> "HAProxy's port on the load balancers";
            case STACKED -> "HAProxy's port on the control planes (not 6443: the apiserver holds it)";
            case VIP_ONLY -> "vip-only: the apiserver's own port";
        });
        line(y, "  loadBalancer: " + mode.key(), choices(PlanFormat.ENDPOINT, "loadBalancer"));
        y.append("  # vrrp:\n");
        line(y, "  #   routerId: 51", "default: derived from the cluster name; must differ from other VRRP routers on the LAN");
        line(y, "  #   unicast: true", "the default: no multicast needed on the switch");
        y.append('\n');

        y.append("network:\n");
        line(y, "  subnet: " + subnet, "every node address and the VIP lie inside it");
        line(y, "  gateway: " + gateway, o.gatewayNode() ? "the gateway Pi below" : "your router");
        line(y, "  # dns: [" + gateway + "]", "the default: the gateway");
        line(y, "  # interface: " + PlanFormat.DEFAULT_INTERFACE, "the default");
        y.append('\n');

        y.append("os:\n");
        line(y, "  image: " + o.image(), "a base-image profile: piimage images lists them");
        if (o.sshKeys().isEmpty()) {
            y.append("  # TODO: no ~/.ssh/*.pub was found. Paste your public key (ssh-keygen -t ed25519 makes one);\n");
            y.append("  # check and bake fail until there is at least one. Password login stays off.\n");
            y.append("  sshAuthorizedKeys: []\n");
        } else {
            line(y, "  sshAuthorizedKeys:", "who may log in (password login stays off)");
            for (String key : o.sshKeys()) {
                y.append("    - ").append(Quoting.yaml(key.strip())).append('\n');
            }
        }
        line(y, "  timezone: " + PlanFormat.DEFAULT_TIMEZONE, "e.g. Asia/Tokyo");
        line(y, "  # ntpServers: [pool.ntp.org]", "default: the distribution's; Pis have no RTC, TLS needs the time");
        y.append('\n');

        y.append("nodes:                                   # the first control plane runs kubeadm init; the others join\n");
        String section = "";
        boolean modelExplained = false;
        for (String[] node : nodes) {
            if (!node[1].equals(section)) {
                section = node[1];
                y.append(switch (section) {
                    case "gateway" -> "  # NAT router between your home LAN (uplink, DHCP) and the cluster LAN\n";
                    case "load-balancer" -> "  # HAProxy + keepalived: active/standby holders of the VIP\n";
                    case "control-plane" -> "  # apiserver + stacked etcd; an odd number keeps etcd's quorum\n";
                    default -> "  # where your pods run (control planes keep their NoSchedule taint)\n";
                });
            }
            y.append("  - name: ").append(node[0]).append('\n');
            y.append("    role: ").append(node[1]).append('\n');
            y.append("    address: ").append(node[2]).append('\n');
            if (section.equals("gateway")) {
                line(y, "    interface: eth1", "cluster side (e.g. a USB Ethernet adapter)");
                line(y, "    uplink: eth0", "home-LAN side; cluster traffic is masqueraded out of it");
            } else {
                line(y, "    model: pi4", modelExplained ? null : choices(PlanFormat.NODE, "model") + " (a pi3 has too little memory for a control plane)");
                modelExplained = true;
            }
        }
        return y.toString();
    }

    /** "a | b | c": the values the format allows for a key, as the comment next to it lists them. */
    private static String choices(PlanFormat.Section section, String key) {
        @SuppressWarnings("unchecked")
        List<String> values = (List<String>) section.key(key).type().schema().get("enum");
        return String.join(" | ", values);
    }

    private static void line(StringBuilder y, String text, String comment) {
        y.append(text);
        if (comment != null) {
            y.append(" ".repeat(Math.max(1, 41 - text.length()))).append("# ").append(comment);
        }
        y.append('\n');
    }

    /** Hands out host addresses of a subnet, each once. */
    private static final class Addresses {
        private final Cidr subnet;
        private final Set<Ipv4> used = new HashSet<>();

        Addresses(Cidr subnet) {
            this.subnet = subnet;
        }

        Ipv4 take(Ipv4 address, String flag) {
            if (!subnet.contains(address) || address.equals(subnet.network()) || address.equals(subnet.broadcast())) {
                throw new IllegalArgumentException(flag + " " + address + " is not a host address of " + subnet);
            }
            if (!used.add(address)) {
                throw new IllegalArgumentException(flag + " " + address + " is already used");
            }
            return address;
        }

        /** The first free host address at or after host number {@code from}, wrapping to the start. */
        Ipv4 next(int from) {
            long hosts = (1L << (32 - subnet.prefix())) - 2;
            if (hosts < 1) {
                throw new IllegalArgumentException(subnet + " has no host addresses");
            }
            long start = Math.min(Math.max(from, 1), hosts);
            for (long i = 0; i < hosts; i++) {
                long host = (start - 1 + i) % hosts + 1;
                Ipv4 candidate = subnet.network().plus((int) host);
                if (used.add(candidate)) {
                    return candidate;
                }
            }
            throw new IllegalArgumentException(subnet + " has too few addresses for this many nodes");
        }
    }
}
