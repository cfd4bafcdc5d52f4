package io.piimage.pipeline;

import io.piimage.pki.ClusterSecrets;
import io.piimage.pki.Pem;
import io.piimage.pki.SshHostKeys;
import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.plan.Role;
import io.piimage.render.NodeFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which secrets a node may carry, decided here in code and not in templates, so that a template
 * override can never put the CA keys on a worker:
 * <ul>
 *   <li>control planes: the eight shared PKI files kubeadm needs to join without uploading certs,
 *       and the etcd client certificate for the join lock; the first one also the bootstrap token its
 *       {@code kubeadm init} creates (and deletes right after);</li>
 *   <li>every Kubernetes node: its own join certificate, in the discovery kubeconfig kubeadm join
 *       uses instead of a bootstrap token, and the CA hash;</li>
 *   <li>load balancers and the gateway: no cluster secret.</li>
 * </ul>
 * Nodes that hold the VIP also get the VRRP password (an endpoint secret, not a cluster one). Every
 * node gets its own SSH host keys, through cloud-init's {@code ssh_keys} (see user-data.ftl).
 */
final class RoleSecrets {

    static final String PKI = "/etc/kubernetes/pki/";
    static final String PIIMAGE = "/etc/piimage/";
    /** The discovery kubeconfig with the node's join certificate (JoinConfiguration discovery.file). */
    static final String DISCOVERY = PIIMAGE + "kubeadm/discovery.conf";

    private RoleSecrets() {
    }

    /** The secret files for the node's filesystem. */
    static List<NodeFile> files(Plan plan, Node node, ClusterSecrets secrets) {
        List<NodeFile> files = new ArrayList<>();
        if (node.role() == Role.CONTROL_PLANE) {
            files.add(NodeFile.text(PKI + "ca.crt", secrets.ca().certificatePem(), NodeFile.READABLE));
            files.add(NodeFile.text(PKI + "ca.key", secrets.ca().privateKeyPem(), NodeFile.SECRET));
            files.add(NodeFile.text(PKI + "sa.key", Pem.privateKey(secrets.serviceAccount().getPrivate()), NodeFile.SECRET));
            files.add(NodeFile.text(PKI + "sa.pub", Pem.publicKey(secrets.serviceAccount().getPublic()), NodeFile.READABLE));
            files.add(NodeFile.text(PKI + "front-proxy-ca.crt", secrets.frontProxyCa().certificatePem(), NodeFile.READABLE));
            files.add(NodeFile.text(PKI + "front-proxy-ca.key", secrets.frontProxyCa().privateKeyPem(), NodeFile.SECRET));
            files.add(NodeFile.text(PKI + "etcd/ca.crt", secrets.etcdCa().certificatePem(), NodeFile.READABLE));
            files.add(NodeFile.text(PKI + "etcd/ca.key", secrets.etcdCa().privateKeyPem(), NodeFile.SECRET));
            files.add(NodeFile.text(PIIMAGE + "pki/etcd-client.crt", secrets.etcdClient().certificatePem(), NodeFile.READABLE));
            files.add(NodeFile.text(PIIMAGE + "pki/etcd-client.key", secrets.etcdClient().privateKeyPem(), NodeFile.SECRET));
        }
        if (plan.isFirstControlPlane(node)) {
            files.add(NodeFile.text(PIIMAGE + "bootstrap-token", secrets.bootstrapToken() + "\n", NodeFile.SECRET));
        }
        if (node.role().isKubernetes()) {
            files.add(NodeFile.text(DISCOVERY, secrets.joinKubeconfig(node.name(), plan.cluster().name(), plan.endpoint().url()),
                    NodeFile.SECRET));
            files.add(NodeFile.text(PIIMAGE + "ca-cert-hash", secrets.caCertHash() + "\n", NodeFile.READABLE));
        }
        return files;
    }

    /** The secret values templates of this node may use, under {@code secrets.*}. */
    static Map<String, Object> templateValues(Plan plan, Node node, ClusterSecrets secrets) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (plan.isFirstControlPlane(node)) {
            values.put("bootstrapToken", secrets.bootstrapToken().toString());
        }
        if (node.role().isKubernetes()) {
            values.put("caCertHash", secrets.caCertHash());
            values.put("discoveryFile", DISCOVERY);
        }
        if (plan.isVipHolder(node)) {
            values.put("vrrpPassword", secrets.vrrpPassword());
        }
        SshHostKeys hostKeys = secrets.hostKeys().get(node.name());
        if (hostKeys != null) {
            List<Map<String, String>> keys = new ArrayList<>();
            for (SshHostKeys.Key key : hostKeys.keys()) {
                // Pre-indented for a YAML block scalar under ssh_keys (4 spaces).
                String indented = key.privateKey().strip().lines().map(line -> "    " + line)
                        .collect(java.util.stream.Collectors.joining("\n"));
                keys.add(Map.of("type", key.type(), "privateKey", indented, "publicKey", key.publicKey()));
            }
            values.put("sshHostKeys", keys);
        }
        return values;
    }

    /**
     * The operator's known_hosts: {@code name,address type key} for every key of every node, plain (not
     * hashed) so that it can be read and checked, so {@code ssh -o UserKnownHostsFile=...} trusts each
     * node from its first connection.
     */
    static String knownHosts(Plan plan, ClusterSecrets secrets) {
        StringBuilder out = new StringBuilder("# SSH host keys of cluster " + plan.cluster().name()
                + ", made by piimage bake: ssh -o UserKnownHostsFile=<this file> <user>@<node>\n");
        for (Node node : plan.nodes()) {
            SshHostKeys keys = secrets.hostKeys().get(node.name());
            if (keys != null) {
                keys.knownHostsLines(node.address().toString()).forEach(line -> out.append(line).append('\n'));
            }
        }
        return out.toString();
    }
}
