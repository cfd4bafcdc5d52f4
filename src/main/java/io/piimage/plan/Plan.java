package io.piimage.plan;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A loaded, validated cluster plan ({@code piimage/v1}) with every default filled. Node order is the
 * plan's order: the first control plane listed is the one that runs {@code kubeadm init}.
 */
public record Plan(Path source, Cluster cluster, Endpoint endpoint, Network network, OsSettings os, List<Node> nodes) {

    public static final String API_VERSION = "piimage/v1";

    public Plan {
        nodes = List.copyOf(nodes);
    }

    public List<Node> nodesWithRole(Role role) {
        return nodes.stream().filter(n -> n.role() == role).toList();
    }

    public List<Node> controlPlanes() {
        return nodesWithRole(Role.CONTROL_PLANE);
    }

    public List<Node> workers() {
        return nodesWithRole(Role.WORKER);
    }

    public List<Node> loadBalancers() {
        return nodesWithRole(Role.LOAD_BALANCER);
    }

    public Optional<Node> gatewayNode() {
        return nodes.stream().filter(n -> n.role() == Role.GATEWAY).findFirst();
    }

    /** The control plane that initialises the cluster: the first one listed. */
    public Node firstControlPlane() {
        return controlPlanes().get(0);
    }

    public Optional<Node> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    public String imageOf(Node node) {
        return node.image() != null ? node.image() : os.image();
    }

    public String interfaceOf(Node node) {
        return node.interfaceName() != null ? node.interfaceName() : network.interfaceName();
    }

    /** The nodes that hold the VIP: load balancers when dedicated, control planes otherwise. */
    public List<Node> vipHolders() {
        return endpoint.loadBalancer() == LoadBalancerMode.DEDICATED ? loadBalancers() : controlPlanes();
    }

    /**
     * Where {@code node} stands among the VIP holders (0: the one preferred), or -1 if it holds no VIP.
     * Nodes are told apart by name, which is unique in a plan.
     */
    public int vipHolderIndex(Node node) {
        List<Node> holders = vipHolders();
        for (int i = 0; i < holders.size(); i++) {
            if (holders.get(i).name().equals(node.name())) {
                return i;
            }
        }
        return -1;
    }

    public boolean isVipHolder(Node node) {
        return vipHolderIndex(node) >= 0;
    }

    /** The control plane that runs kubeadm init; the others join it. */
    public boolean isFirstControlPlane(Node node) {
        return node.role() == Role.CONTROL_PLANE && firstControlPlane().name().equals(node.name());
    }
}
