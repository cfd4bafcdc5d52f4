package io.piimage.pipeline;

import io.piimage.plan.Node;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Splits a node's plan labels into those kubelet may set on its own Node object
 * ({@code --node-labels}, via nodeRegistration.kubeletExtraArgs) and those it may not: kubelet refuses
 * to start when {@code --node-labels} holds a label in the kubernetes.io or k8s.io namespaces other
 * than the few the NodeRestriction admission plugin allows (e.g. {@code node-role.kubernetes.io/worker}).
 * The restricted ones are applied with kubectl by the first control plane once the node has joined.
 */
final class KubeletLabels {

    /** Labels in the kubernetes.io / k8s.io namespaces that kubelet may still set on itself. */
    static final Set<String> ALLOWED_KEYS = Set.of(
            "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os",
            "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
            "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
            "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
            "beta.kubernetes.io/arch", "beta.kubernetes.io/os");

    private KubeletLabels() {
    }

    static boolean kubeletMaySet(String key) {
        int slash = key.indexOf('/');
        if (slash < 0) {
            return true;
        }
        String domain = key.substring(0, slash);
        boolean restrictedNamespace = inDomain(domain, "kubernetes.io") || inDomain(domain, "k8s.io");
        if (!restrictedNamespace) {
            return true;
        }
        return inDomain(domain, "kubelet.kubernetes.io") || inDomain(domain, "node.kubernetes.io")
                || ALLOWED_KEYS.contains(key);
    }

    private static boolean inDomain(String domain, String parent) {
        return domain.equals(parent) || domain.endsWith("." + parent);
    }

    /** "k=v,k2=v2" for kubelet's --node-labels, sorted; empty when there is none. */
    static String kubeletFlag(Node node) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, String> label : new TreeMap<>(node.labels()).entrySet()) {
            if (kubeletMaySet(label.getKey())) {
                out.append(out.length() == 0 ? "" : ",").append(label.getKey()).append('=').append(label.getValue());
            }
        }
        return out.toString();
    }

    /** The labels only an administrator may set, sorted by key. */
    static Map<String, String> restricted(Node node) {
        Map<String, String> restricted = new TreeMap<>();
        node.labels().forEach((key, value) -> {
            if (!kubeletMaySet(key)) {
                restricted.put(key, value);
            }
        });
        return restricted;
    }
}
