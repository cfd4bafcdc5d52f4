package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Every kubeadm document piimage renders, checked against the v1beta4 field set and cross-checked
 * against the plan it came from.
 *
 * <p>The field set below was read from upstream's types, kubernetes/kubernetes at commit
 * 1329935739c3aa007d23cb9a4dadfee9d59ff79b:
 * <ul>
 *   <li>cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go: InitConfiguration, ClusterConfiguration,
 *       JoinConfiguration, NodeRegistrationOptions, APIEndpoint, Networking, APIServer,
 *       ControlPlaneComponent, Arg, Discovery, BootstrapTokenDiscovery, JoinControlPlane, Timeouts,
 *       EncryptionAlgorithmType (RSA-2048, RSA-3072, RSA-4096, ECDSA-P256);</li>
 *   <li>cmd/kubeadm/app/apis/bootstraptoken/v1/types.go: BootstrapToken (token, description, ttl,
 *       expires, usages, groups);</li>
 *   <li>staging/src/k8s.io/api/core/v1/types.go: Taint (key, value, effect, timeAdded);</li>
 *   <li>staging/src/k8s.io/kubelet/config/v1beta1/types.go: KubeletConfiguration.cgroupDriver (only
 *       the fields piimage writes are listed for KubeletConfiguration).</li>
 * </ul>
 */
class KubeadmConfigTest {

    /** A leaf field. */
    static final Object LEAF = "leaf";

    static Map<String, Object> object(Object... keysAndTypes) {
        java.util.LinkedHashMap<String, Object> fields = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndTypes.length; i += 2) {
            fields.put((String) keysAndTypes[i], keysAndTypes[i + 1]);
        }
        return fields;
    }

    static List<Object> listOf(Object element) {
        return List.of(element);
    }

    static final Map<String, Object> ARG = object("name", LEAF, "value", LEAF);
    static final Map<String, Object> API_ENDPOINT = object("advertiseAddress", LEAF, "bindPort", LEAF);
    static final Map<String, Object> TAINT = object("key", LEAF, "value", LEAF, "effect", LEAF, "timeAdded", LEAF);
    static final Map<String, Object> NODE_REGISTRATION = object("name", LEAF, "criSocket", LEAF, "taints", listOf(TAINT),
            "kubeletExtraArgs", listOf(ARG), "ignorePreflightErrors", listOf(LEAF), "imagePullPolicy", LEAF,
            "imagePullSerial", LEAF);
    static final Map<String, Object> TIMEOUTS = object("controlPlaneComponentHealthCheck", LEAF, "kubeletHealthCheck", LEAF,
            "kubernetesAPICall", LEAF, "etcdAPICall", LEAF, "tlsBootstrap", LEAF, "discovery", LEAF, "upgradeManifests", LEAF);
    static final Map<String, Object> PATCHES = object("directory", LEAF);
    static final Map<String, Object> BOOTSTRAP_TOKEN = object("token", LEAF, "description", LEAF, "ttl", LEAF, "expires", LEAF,
            "usages", listOf(LEAF), "groups", listOf(LEAF));
    static final Map<String, Object> HOST_PATH_MOUNT = object("name", LEAF, "hostPath", LEAF, "mountPath", LEAF,
            "readOnly", LEAF, "pathType", LEAF);
    static final Map<String, Object> COMPONENT = object("extraArgs", listOf(ARG), "extraVolumes", listOf(HOST_PATH_MOUNT),
            "extraEnvs", listOf(LEAF));

    static final Map<String, Object> INIT_CONFIGURATION = object("apiVersion", LEAF, "kind", LEAF,
            "bootstrapTokens", listOf(BOOTSTRAP_TOKEN), "dryRun", LEAF, "nodeRegistration", NODE_REGISTRATION,
            "localAPIEndpoint", API_ENDPOINT, "certificateKey", LEAF, "skipPhases", listOf(LEAF), "patches", PATCHES,
            "timeouts", TIMEOUTS);

    static final Map<String, Object> CLUSTER_CONFIGURATION;

    static {
        Map<String, Object> apiServer = new java.util.LinkedHashMap<>(COMPONENT);
        apiServer.put("certSANs", listOf(LEAF));
        CLUSTER_CONFIGURATION = object("apiVersion", LEAF, "kind", LEAF, "etcd", LEAF, "networking",
                object("serviceSubnet", LEAF, "podSubnet", LEAF, "dnsDomain", LEAF), "kubernetesVersion", LEAF,
                "controlPlaneEndpoint", LEAF, "apiServer", apiServer, "controllerManager", COMPONENT, "scheduler", COMPONENT,
                "dns", LEAF, "proxy", LEAF, "certificatesDir", LEAF, "imageRepository", LEAF, "featureGates", LEAF,
                "clusterName", LEAF, "encryptionAlgorithm", LEAF, "certificateValidityPeriod", LEAF,
                "caCertificateValidityPeriod", LEAF);
    }

    static final Map<String, Object> JOIN_CONFIGURATION = object("apiVersion", LEAF, "kind", LEAF, "dryRun", LEAF,
            "nodeRegistration", NODE_REGISTRATION, "caCertPath", LEAF,
            "discovery", object("bootstrapToken", object("token", LEAF, "apiServerEndpoint", LEAF,
                    "caCertHashes", listOf(LEAF), "unsafeSkipCAVerification", LEAF),
                    "file", object("kubeConfigPath", LEAF), "tlsBootstrapToken", LEAF),
            "controlPlane", object("localAPIEndpoint", API_ENDPOINT, "certificateKey", LEAF),
            "skipPhases", listOf(LEAF), "patches", PATCHES, "timeouts", TIMEOUTS);

    static final Map<String, Object> KUBELET_CONFIGURATION = object("apiVersion", LEAF, "kind", LEAF, "cgroupDriver", LEAF);

    static final Map<String, Map<String, Object>> KINDS = Map.of(
            "InitConfiguration", INIT_CONFIGURATION, "ClusterConfiguration", CLUSTER_CONFIGURATION,
            "JoinConfiguration", JOIN_CONFIGURATION, "KubeletConfiguration", KUBELET_CONFIGURATION);

    static final Set<String> ENCRYPTION_ALGORITHMS = Set.of("RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256");

    @TempDir
    Path dir;

    /** Paths of fields the document has that the type does not. */
    @SuppressWarnings("unchecked")
    static List<String> unknownFields(Object value, Object type, String path) {
        List<String> unknown = new ArrayList<>();
        if (type instanceof Map<?, ?> fields) {
            assertThat(value).as(path + " must be an object").isInstanceOf(Map.class);
            ((Map<String, Object>) value).forEach((key, child) -> {
                if (!fields.containsKey(key)) {
                    unknown.add(path + "." + key);
                } else {
                    unknown.addAll(unknownFields(child, fields.get(key), path + "." + key));
                }
            });
        } else if (type instanceof List<?> element) {
            assertThat(value).as(path + " must be a list").isInstanceOf(List.class);
            for (Object item : (List<Object>) value) {
                unknown.addAll(unknownFields(item, element.get(0), path + "[]"));
            }
        }
        return unknown;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> documents(String yaml) {
        Map<String, Map<String, Object>> byKind = new java.util.LinkedHashMap<>();
        for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
            Map<String, Object> map = (Map<String, Object>) document;
            String kind = (String) map.get("kind");
            assertThat(KINDS).as("kind " + kind).containsKey(kind);
            assertThat(map.get("apiVersion")).isEqualTo(kind.equals("KubeletConfiguration")
                    ? "kubelet.config.k8s.io/v1beta1" : "kubeadm.k8s.io/v1beta4");
            assertThat(unknownFields(map, KINDS.get(kind), kind)).as("fields not in v1beta4's " + kind).isEmpty();
            byKind.put(kind, map);
        }
        return byKind;
    }

    static String caHash(String caPem) throws Exception {
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)));
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getPublicKey().getEncoded()));
    }

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster:
              name: pa-kubeadm
              kubernetesVersion: "1.32.3"
              podSubnet: 10.200.0.0/16
              serviceSubnet: 10.201.0.0/16
              dnsDomain: lab.internal
              cni: calico
              keyAlgorithm: ecdsa-p256
            endpoint: {vip: 10.66.0.10, port: 8443, loadBalancer: stacked}
            network: {subnet: 10.66.0.0/24, gateway: 10.66.0.1}
            os:
              sshAuthorizedKeys: ["%s"]
            nodes:
              - name: m1
                role: control-plane
                address: 10.66.0.11
                labels: {topology.kubernetes.io/zone: shelf-a, node-role.kubernetes.io/infra: "", tier: gold}
                taints: [{key: dedicated, value: infra, effect: NoSchedule}]
              - {name: m2, role: control-plane, address: 10.66.0.12}
              - {name: m3, role: control-plane, address: 10.66.0.13}
            """.formatted(BakedNodes.SSH_KEY);

    @Test
    @SuppressWarnings("unchecked")
    void controlPlaneDocumentsUseOnlyV1beta4FieldsAndSayWhatThePlanSays() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "pa-kubeadm", PLAN);
        String token = baked.file("m1", "/etc/piimage/bootstrap-token").strip();
        String hash = baked.file("m1", "/etc/piimage/ca-cert-hash").strip();
        assertThat(token).matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$");
        assertThat(hash).matches("^sha256:[0-9a-f]{64}$")
                .isEqualTo(caHash(baked.file("m1", "/etc/kubernetes/pki/ca.crt")));

        Map<String, Map<String, Object>> init = documents(baked.file("m1", "/etc/piimage/kubeadm/init.yaml"));
        assertThat(init).containsOnlyKeys("InitConfiguration", "ClusterConfiguration", "KubeletConfiguration");
        Map<String, Object> initConfiguration = init.get("InitConfiguration");
        Map<String, Object> bootstrapToken = ((List<Map<String, Object>>) initConfiguration.get("bootstrapTokens")).get(0);
        // kubeadm init makes a token whatever the configuration says; this one lives 15 minutes at most.
        assertThat(bootstrapToken).containsEntry("token", token).containsEntry("ttl", "15m0s")
                .containsEntry("usages", List.of("signing", "authentication"))
                .containsEntry("groups", List.of("system:bootstrappers:kubeadm:default-node-token"));
        assertThat(initConfiguration.get("localAPIEndpoint")).isEqualTo(Map.of("advertiseAddress", "10.66.0.11", "bindPort", 6443));
        Map<String, Object> registration = (Map<String, Object>) initConfiguration.get("nodeRegistration");
        assertThat(registration).containsEntry("name", "m1");
        // No workers in the plan: no control-plane taint, only the plan's own.
        assertThat(registration.get("taints")).isEqualTo(List.of(Map.of("key", "dedicated", "value", "infra", "effect", "NoSchedule")));
        assertThat((List<Map<String, Object>>) registration.get("kubeletExtraArgs")).contains(
                Map.of("name", "node-ip", "value", "10.66.0.11"),
                Map.of("name", "node-labels", "value", "tier=gold,topology.kubernetes.io/zone=shelf-a"));

        Map<String, Object> cluster = init.get("ClusterConfiguration");
        assertThat(cluster).containsEntry("clusterName", "pa-kubeadm").containsEntry("kubernetesVersion", "v1.32.3")
                .containsEntry("controlPlaneEndpoint", "10.66.0.10:8443").containsEntry("encryptionAlgorithm", "ECDSA-P256");
        assertThat(ENCRYPTION_ALGORITHMS).contains((String) cluster.get("encryptionAlgorithm"));
        assertThat(cluster.get("networking")).isEqualTo(Map.of("podSubnet", "10.200.0.0/16", "serviceSubnet", "10.201.0.0/16",
                "dnsDomain", "lab.internal"));
        assertThat((List<String>) ((Map<String, Object>) cluster.get("apiServer")).get("certSANs"))
                .containsExactlyInAnyOrder("10.66.0.10", "m1", "10.66.0.11", "m2", "10.66.0.12", "m3", "10.66.0.13");
        assertThat(init.get("KubeletConfiguration")).containsEntry("cgroupDriver", "systemd");

        for (String node : List.of("m1", "m2", "m3")) {
            Map<String, Map<String, Object>> join = documents(baked.file(node, "/etc/piimage/kubeadm/join.yaml"));
            Map<String, Object> joinConfiguration = join.get("JoinConfiguration");
            assertThat(joinConfiguration.get("discovery"))
                    .isEqualTo(Map.of("file", Map.of("kubeConfigPath", "/etc/piimage/kubeadm/discovery.conf")));
            assertDiscoveryFile(baked, node, "https://10.66.0.10:8443");
            Map<String, Object> controlPlane = (Map<String, Object>) joinConfiguration.get("controlPlane");
            assertThat(controlPlane).doesNotContainKey("certificateKey");
            assertThat(((Map<String, Object>) controlPlane.get("localAPIEndpoint")).get("advertiseAddress"))
                    .isEqualTo(baked.result.plan().node(node).orElseThrow().address().toString());
        }
        assertThat(baked.files("m2")).doesNotContainKey("/etc/piimage/kubeadm/init.yaml")
                .doesNotContainKey("/etc/piimage/bootstrap-token");
        // Restricted labels are applied by the first control plane's join watch, not by kubelet.
        assertThat(baked.file("m1", "/etc/piimage/kubernetes.env"))
                .contains("PIIMAGE_RESTRICTED_LABELS=('m1|node-role.kubernetes.io/infra=')");
        assertThat(baked.file("m1", "/etc/piimage/cni/calico.yaml")).contains("cidr: \"10.200.0.0/16\"", "encapsulation: VXLAN",
                "bgp: Disabled");
        // Node addresses from the Kubernetes API (the node-ip kubelet registers), not the first NIC found:
        // Installation.spec.calicoNetwork.nodeAddressAutodetectionV4.kubernetes, whose only value is
        // NodeInternalIP (tigera/operator api/v1/installation_types.go, NodeAddressAutodetection).
        Map<String, Object> installation = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadAllFromString(baked.file("m1", "/etc/piimage/cni/calico.yaml")).iterator().next();
        assertThat(installation).containsEntry("kind", "Installation");
        assertThat(((Map<String, Object>) ((Map<String, Object>) installation.get("spec")).get("calicoNetwork"))
                .get("nodeAddressAutodetectionV4")).isEqualTo(Map.of("kubernetes", "NodeInternalIP"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void workersJoinWithoutAControlPlaneSectionAndControlPlanesKeepTheirTaintWhenThereAreWorkers() throws Exception {
        Path plan = io.piimage.testing.Project.copyExample("makina.yaml", dir);
        BakedNodes baked = BakedNodes.bake(dir, "makina-copy", java.nio.file.Files.readString(plan));
        Map<String, Object> join = documents(baked.file("worker1", "/etc/piimage/kubeadm/join.yaml")).get("JoinConfiguration");
        assertThat(join).doesNotContainKey("controlPlane");
        assertThat(join.get("discovery")).isEqualTo(Map.of("file", Map.of("kubeConfigPath", "/etc/piimage/kubeadm/discovery.conf")));
        assertDiscoveryFile(baked, "worker1", "https://192.168.3.240:9000");
        assertThat(baked.files("worker1")).doesNotContainKey("/etc/piimage/bootstrap-token");
        assertThat(((Map<String, Object>) join.get("nodeRegistration")).get("taints")).isEqualTo(List.of());

        Map<String, Map<String, Object>> init = documents(baked.file("master1", "/etc/piimage/kubeadm/init.yaml"));
        assertThat(((Map<String, Object>) init.get("InitConfiguration").get("nodeRegistration")).get("taints"))
                .isEqualTo(List.of(Map.of("key", "node-role.kubernetes.io/control-plane", "effect", "NoSchedule")));
        // "1.31" (not pinned): the first control plane runs the kubeadm version it installed.
        assertThat(init.get("ClusterConfiguration")).containsEntry("kubernetesVersion", "stable-1.31")
                .containsEntry("encryptionAlgorithm", "RSA-2048");
        assertThat(baked.file("master1", "/etc/piimage/cni/flannel.yaml")).contains("\"Network\": \"10.244.0.0/16\"");
        assertThat(baked.files("master2")).doesNotContainKey("/etc/piimage/cni/flannel.yaml");
        assertThat(baked.files("lb1")).doesNotContainKey("/etc/piimage/kubeadm/join.yaml");
        assertThat(baked.packages("worker1")).contains("containerd", "curl", "jq");
    }

    /**
     * The card's discovery kubeconfig: the endpoint, the cluster CA, and the node's own join certificate
     * (CN piimage:join:NODE, O the bootstrappers group kubeadm binds its join RBAC to) as credentials.
     */
    @SuppressWarnings("unchecked")
    static void assertDiscoveryFile(BakedNodes baked, String node, String server) throws Exception {
        Map<String, Object> kubeconfig = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(baked.file(node, "/etc/piimage/kubeadm/discovery.conf"));
        Map<String, Object> cluster = (Map<String, Object>) ((List<Map<String, Object>>) kubeconfig.get("clusters")).get(0).get("cluster");
        assertThat(cluster).containsEntry("server", server);
        String caPem = new String(java.util.Base64.getDecoder().decode((String) cluster.get("certificate-authority-data")));
        assertThat(caPem).isEqualTo(Files.readString(baked.result.secretsDir().resolve("ca.crt")));
        Map<String, Object> user = (Map<String, Object>) ((List<Map<String, Object>>) kubeconfig.get("users")).get(0).get("user");
        java.security.cert.X509Certificate join = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory
                .getInstance("X.509").generateCertificate(new java.io.ByteArrayInputStream(
                        java.util.Base64.getDecoder().decode((String) user.get("client-certificate-data"))));
        assertThat(join.getSubjectX500Principal().getName())
                .isEqualTo("CN=piimage:join:" + node + ",O=system:bootstrappers:kubeadm:default-node-token");
        assertThat(user).containsKey("client-key-data");
    }
}
