package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;
import java.util.List;

/**
 * The rules that look at the whole plan once {@link PlanLoader} has built it (defaults filled, router id
 * derived): mistakes that are legal in the format but break or endanger a real cluster. They are
 * {@link PlanRule}s like the others: an error here fails {@code check} and stops {@code bake} alike; a
 * warning does neither.
 */
final class PlanLint {

    /** Calico's default pool, and the range most home routers hand out. */
    static final Cidr HOME_LAN_RANGE = Cidr.parse("192.168.0.0/16");

    private final Plan plan;
    private final Diagnostics diagnostics;
    private final Positions positions;

    private PlanLint(Plan plan, Diagnostics diagnostics, Positions positions) {
        this.plan = plan;
        this.diagnostics = diagnostics;
        this.positions = positions;
    }

    /** Adds the findings on {@code plan} to {@code diagnostics}, placed where {@code positions} says. */
    static void lint(Plan plan, Diagnostics diagnostics, Positions positions) {
        new PlanLint(plan, diagnostics, positions).run();
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
        if (id == PlanLoader.TUTORIAL_ROUTER_ID) {
            report(PlanRule.TUTORIAL_ROUTER_ID, "endpoint.vrrp.routerId", "VRRP router id " + id + " is keepalived's sample default, used by most "
                    + "tutorials: another keepalived on this LAN with id " + id + " takes the VIP away; pick another "
                    + "id (1-255) or leave routerId out to derive one from the cluster name");
        }
    }

    private void models() {
        for (int i = 0; i < plan.nodes().size(); i++) {
            Node node = plan.nodes().get(i);
            // A pi3 control plane is one of PlanLoader's errors; a pi3 worker is legal but cramped.
            if (node.model() == PiModel.PI3 && node.role() == Role.WORKER) {
                report(PlanRule.PI3_WORKER, "nodes[" + i + "].model", "worker " + node.name() + " is a pi3 (1 GiB): after kubelet, "
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
            report(PlanRule.PODS_CAN_SCHEDULE, "nodes[" + index + "].taints@key", "no worker, and every control plane has a NoSchedule/NoExecute "
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
                    report(PlanRule.DNS_OUTSIDE_CLUSTER_RANGES, "network.dns[" + i + "]", "name server " + dns + " lies inside " + (cluster == pods ? "podSubnet " : "serviceSubnet ")
                            + cluster + ": pods' and nodes' queries to it would be routed into the cluster");
                }
            }
        }
        if (!lan.overlaps(HOME_LAN_RANGE)) {
            for (Cidr cluster : List.of(pods, services)) {
                if (cluster.overlaps(HOME_LAN_RANGE)) {
                    report(PlanRule.HOME_LAN_RANGE, cluster == pods ? "cluster.podSubnet" : "cluster.serviceSubnet", (cluster == pods ? "podSubnet " : "serviceSubnet ")
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
            report(PlanRule.KEY_ALGORITHM_VERSION, "cluster.keyAlgorithm", "keyAlgorithm ecdsa-p384 needs Kubernetes 1.34 or newer (kubeadm " + version
                    + " rejects encryptionAlgorithm ECDSA-P384): use ecdsa-p256, or kubernetesVersion \"1.34\"");
        }
    }

    private void report(PlanRule rule, String path, String message) {
        rule.report(diagnostics, positions.near(path), message);
    }
}
