package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Lint for a plan that passed {@link PlanLoader}'s rules: mistakes that are legal in the format but
 * break or endanger a real cluster, caught before a card is flashed. Errors where the cluster cannot
 * work as planned, warnings where it probably will not.
 */
public final class PlanLint {

    /** keepalived's sample configuration and nearly every tutorial use virtual_router_id 51. */
    static final int TUTORIAL_ROUTER_ID = 51;

    /** Calico's default pool, and the range most home routers hand out. */
    static final Cidr HOME_LAN_RANGE = Cidr.parse("192.168.0.0/16");

    /** Where a finding points in the plan file: a key path such as {@code nodes[2].address}. */
    @FunctionalInterface
    public interface Locator {
        /** {line, column} (1-based) of the value at {@code path}, or null when unknown. */
        int[] find(String path);

        Locator NONE = path -> null;

        /**
         * Finds paths in the plan's own text ("nodes[2].address", "endpoint.vrrp.routerId"); a path
         * that is not written (a default) falls back to the nearest written ancestor.
         */
        static Locator of(String yaml) {
            org.snakeyaml.engine.v2.nodes.Node root;
            try {
                root = new org.snakeyaml.engine.v2.api.lowlevel.Compose(
                        org.snakeyaml.engine.v2.api.LoadSettings.builder().build()).composeString(yaml).orElse(null);
            } catch (RuntimeException e) {
                return NONE;
            }
            if (root == null) {
                return NONE;
            }
            return path -> locate(root, path);
        }
    }

    private static int[] locate(org.snakeyaml.engine.v2.nodes.Node root, String path) {
        org.snakeyaml.engine.v2.nodes.Node current = root;
        org.snakeyaml.engine.v2.nodes.Node found = null;
        for (String segment : path.split("\\.")) {
            String key = segment;
            int index = -1;
            int bracket = segment.indexOf('[');
            if (bracket >= 0) {
                key = segment.substring(0, bracket);
                index = Integer.parseInt(segment.substring(bracket + 1, segment.indexOf(']')));
            }
            org.snakeyaml.engine.v2.nodes.Node next = null;
            org.snakeyaml.engine.v2.nodes.Node keyNode = null;
            if (current instanceof org.snakeyaml.engine.v2.nodes.MappingNode mapping) {
                for (var tuple : mapping.getValue()) {
                    if (tuple.getKeyNode() instanceof org.snakeyaml.engine.v2.nodes.ScalarNode k && k.getValue().equals(key)) {
                        keyNode = k;
                        next = tuple.getValueNode();
                    }
                }
            }
            if (next == null) {
                break;
            }
            found = keyNode;
            current = next;
            if (index >= 0) {
                if (current instanceof org.snakeyaml.engine.v2.nodes.SequenceNode sequence && index < sequence.getValue().size()) {
                    current = sequence.getValue().get(index);
                    found = current;
                } else {
                    break;
                }
            } else {
                found = current instanceof org.snakeyaml.engine.v2.nodes.ScalarNode ? current : keyNode;
            }
        }
        if (found == null) {
            return null;
        }
        return found.getStartMark().map(m -> new int[] {m.getLine() + 1, m.getColumn() + 1}).orElse(null);
    }

    private final Plan plan;
    private final String file;
    private final Locator locator;
    private final List<Diagnostic> findings = new ArrayList<>();

    private PlanLint(Plan plan, String file, Locator locator) {
        this.plan = plan;
        this.file = file;
        this.locator = Objects.requireNonNull(locator);
    }

    public static List<Diagnostic> lint(Plan plan, String file, Locator locator) {
        PlanLint lint = new PlanLint(plan, file, locator);
        lint.run();
        return List.copyOf(lint.findings);
    }

    private void run() {
        routerId();
        models();
        scheduling();
        subnets();
        keyAlgorithm();
    }

    private void routerId() {
        int id = plan.endpoint().vrrp().routerId();
        if (id == TUTORIAL_ROUTER_ID) {
            warning("endpoint.vrrp.routerId", "VRRP router id " + id + " is keepalived's sample default, used by most "
                    + "tutorials: another keepalived on this LAN with id " + id + " takes the VIP away; pick another "
                    + "id (1-255) or leave routerId out to derive one from the cluster name");
        }
    }

    private void models() {
        for (int i = 0; i < plan.nodes().size(); i++) {
            Node node = plan.nodes().get(i);
            // A pi3 control plane is one of PlanLoader's errors; a pi3 worker is legal but cramped.
            if (node.model() == PiModel.PI3 && node.role() == Role.WORKER) {
                warning("nodes[" + i + "].model", "worker " + node.name() + " is a pi3 (1 GiB): after kubelet, "
                        + "containerd and the CNI little memory is left for pods");
            }
        }
    }

    /**
     * With no worker, the loader removes kubeadm's default NoSchedule taint from the control planes (and
     * warns); a taint the plan writes itself stays, and then ordinary pods have nowhere to run.
     */
    private void scheduling() {
        if (!plan.workers().isEmpty() || plan.controlPlanes().isEmpty()) {
            return;
        }
        List<Node> controlPlanes = plan.controlPlanes();
        if (controlPlanes.stream().allMatch(PlanLint::repelsPods)) {
            int index = plan.nodes().indexOf(controlPlanes.get(0));
            warning("nodes[" + index + "].taints", "no worker, and every control plane has a NoSchedule/NoExecute "
                    + "taint: ordinary pods will stay Pending; add workers, or drop the taints");
        }
    }

    /** A taint the plan writes that keeps ordinary pods off the node. */
    static boolean repelsPods(Node node) {
        return node.taints().stream().anyMatch(t -> t.effect().equals("NoSchedule") || t.effect().equals("NoExecute"));
    }

    private void subnets() {
        Cidr pods = plan.cluster().podSubnet();
        Cidr services = plan.cluster().serviceSubnet();
        Cidr lan = plan.network().subnet();
        for (int i = 0; i < plan.network().dns().size(); i++) {
            Ipv4 dns = plan.network().dns().get(i);
            for (Cidr cluster : List.of(pods, services)) {
                if (cluster.contains(dns)) {
                    error("network.dns[" + i + "]", "name server " + dns + " lies inside " + (cluster == pods ? "podSubnet " : "serviceSubnet ")
                            + cluster + ": pods' and nodes' queries to it would be routed into the cluster");
                }
            }
        }
        if (!lan.overlaps(HOME_LAN_RANGE)) {
            for (Cidr cluster : List.of(pods, services)) {
                if (cluster.overlaps(HOME_LAN_RANGE)) {
                    warning(cluster == pods ? "cluster.podSubnet" : "cluster.serviceSubnet", (cluster == pods ? "podSubnet " : "serviceSubnet ")
                            + cluster + " overlaps 192.168.0.0/16, where most home LANs live (and Calico's default pool): "
                            + "if the LAN beyond the gateway is in it, pods cannot reach it; 10.244.0.0/16 is the usual choice");
                }
            }
        }
    }

    /**
     * kubeadm accepts ECDSA-P384 from v1.34 on (kubernetes/kubernetes#131677, "kubeadm: add support for
     * ECDSA-P384 as an encryption algorithm type in v1beta4", merged May 2025 for 1.34); older kubeadm
     * rejects the ClusterConfiguration.
     */
    private void keyAlgorithm() {
        KeyAlgorithm algorithm = plan.cluster().keyAlgorithm();
        KubernetesVersion version = plan.cluster().kubernetesVersion();
        if (algorithm == KeyAlgorithm.ECDSA_P384 && !version.atLeast(1, 34)) {
            error("cluster.keyAlgorithm", "keyAlgorithm ecdsa-p384 needs Kubernetes 1.34 or newer (kubeadm " + version
                    + " rejects encryptionAlgorithm ECDSA-P384): use ecdsa-p256, or kubernetesVersion \"1.34\"");
        }
    }

    private void error(String path, String message) {
        add(Diagnostic.Severity.ERROR, path, message);
    }

    private void warning(String path, String message) {
        add(Diagnostic.Severity.WARNING, path, message);
    }

    private void add(Diagnostic.Severity severity, String path, String message) {
        int[] at = locator.find(path);
        findings.add(new Diagnostic(severity, file, at == null ? 0 : at[0], at == null ? 0 : at[1], message));
    }
}
