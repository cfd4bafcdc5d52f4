package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The {@code piimage/v1} plan format, described once: every section, its keys, their types, defaults,
 * allowed values and one line of documentation. {@link PlanReader} takes its key lists, required keys
 * and defaults from here, {@link PlanSchema#generate} writes the JSON Schema from it (a test keeps the
 * shipped schema equal to the generated one), and docs/plan-format.md describes the same keys in prose
 * (a test checks that it names every one). Rules that span keys live in {@link PlanRule}.
 */
public final class PlanFormat {

    private PlanFormat() {
    }

    /**
     * A value's type. {@code schema} is a JSON Schema fragment whose values may hold further {@link Type}s
     * and {@link Section}s; a type with a {@code name} is written once under the schema's $defs.
     */
    public record Type(String name, String summary, Map<String, Object> schema) {

        public Type {
            schema = unmodifiable(schema);
        }
    }

    /** One key of a section; {@code defaultValue} is null when the key has none (or one the code derives). */
    public record Key(String name, Type type, boolean required, Object defaultValue, String doc) {
    }

    /**
     * One mapping of the plan. {@code conditions} are JSON Schema {@code if/then} fragments for what one key
     * demands of another (the loader reports the same cases in its own words).
     */
    public record Section(String name, String doc, List<Key> keys, List<Map<String, Object>> conditions) {

        public Section {
            keys = List.copyOf(keys);
            conditions = conditions.stream().map(PlanFormat::unmodifiable).toList();
        }

        public List<String> names() {
            return keys.stream().map(Key::name).toList();
        }

        public Key key(String name) {
            return keys.stream().filter(k -> k.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(this.name + " has no key " + name));
        }

        public boolean required(String name) {
            return key(name).required();
        }
    }

    /** Stands for the build's image profiles in {@link #IMAGE_PROFILE}; the schema generator fills them in. */
    static final String IMAGE_PROFILES = "$imageProfiles";

    // ---- defaults the reader starts from (and the schema and docs print) ----

    public static final String DEFAULT_IMAGE = "ubuntu-24.04";
    public static final Cidr DEFAULT_POD_SUBNET = Cidr.parse("10.244.0.0/16");
    public static final Cidr DEFAULT_SERVICE_SUBNET = Cidr.parse("10.96.0.0/12");
    public static final String DEFAULT_DNS_DOMAIN = "cluster.local";
    public static final Cni DEFAULT_CNI = Cni.FLANNEL;
    public static final KeyAlgorithm DEFAULT_KEY_ALGORITHM = KeyAlgorithm.RSA_2048;
    public static final int DEFAULT_PORT = 6443;
    public static final boolean DEFAULT_UNICAST = true;
    public static final boolean DEFAULT_PREEMPT = false;
    public static final String DEFAULT_INTERFACE = "eth0";
    public static final String DEFAULT_TIMEZONE = "Etc/UTC";
    public static final List<String> TAINT_EFFECTS = List.of("NoSchedule", "PreferNoSchedule", "NoExecute");

    // ---- types ----

    static final Type STRING = new Type(null, "text", map("type", "string"));
    static final Type TEXT = new Type(null, "text", map("type", "string", "minLength", 1));
    static final Type BOOLEAN = new Type(null, "true or false", map("type", "boolean"));
    static final Type DNS_LABEL = new Type("dnsLabel", "DNS label (a-z, 0-9, '-', at most 63)",
            map("type", "string", "pattern", whole(Syntax.DNS_LABEL.pattern())));
    static final Type IPV4 = new Type("ipv4", "IPv4 address", map("type", "string", "pattern", whole(Ipv4Text.ADDRESS),
            "examples", List.of("192.168.3.240")));
    static final Type CIDR = new Type("cidr", "IPv4 network (address/prefix)", map("type", "string",
            "pattern", whole(Ipv4Text.ADDRESS + "/(3[0-2]|[12]?[0-9])"), "examples", List.of("192.168.3.0/24")));
    static final Type INTERFACE = new Type("interfaceName", "network interface name",
            map("type", "string", "pattern", whole(Syntax.INTERFACE.pattern())));
    static final Type HOSTNAME = new Type("hostname", "host name",
            map("type", "string", "maxLength", 253, "pattern", whole(hostnamePattern())));
    /** The profiles are the build's (piimage images lists them): {@link PlanSchema#generate} fills them in. */
    static final Type IMAGE_PROFILE = new Type("imageProfile", "base-image profile (piimage images lists them)",
            map("description", "A base-image profile (piimage images lists them).", "enum", IMAGE_PROFILES));
    static final Type SSH_KEY = new Type(null, "SSH public key line", map("type", "string",
            "pattern", whole("(.*\\s)?(" + Syntax.SSH_KEY_TYPES.stream().sorted().map(t -> t.replace(".", "\\.")).collect(Collectors.joining("|"))
                    + ")\\s+[A-Za-z0-9+/]+=*(\\s.*)?")));

    static Type choice(String summary, List<String> values) {
        return new Type(null, summary, map("enum", values));
    }

    static <E extends Enum<E>> Type choice(E[] values, Function<E, String> key) {
        List<String> keys = Arrays.stream(values).map(key).toList();
        return choice("one of " + String.join(", ", keys), keys);
    }

    static Type integer(int min, int max) {
        return new Type(null, "whole number " + min + "-" + max, map("type", "integer", "minimum", min, "maximum", max));
    }

    static Type listOf(Type item, int minItems) {
        Map<String, Object> schema = new LinkedHashMap<>();
        schema.put("type", "array");
        if (minItems > 0) {
            schema.put("minItems", minItems);
        }
        schema.put("items", item);
        return new Type(null, "list of " + item.summary() + (minItems > 0 ? " (at least " + minItems + ")" : ""), schema);
    }

    static Type section(Section section) {
        return new Type(null, "mapping (" + section.name() + ")", map("$section", section));
    }

    // ---- sections ----

    public static final Section VRRP = new Section("endpoint.vrrp", "How keepalived moves the VIP.", List.of(
            new Key("routerId", integer(1, 255), false, null,
                    "VRRP virtual router id; default derived from cluster.name. Must differ from every other VRRP router on the LAN."),
            new Key("unicast", BOOLEAN, false, DEFAULT_UNICAST, "unicast_peer lists instead of multicast 224.0.0.18."),
            new Key("preempt", BOOLEAN, false, DEFAULT_PREEMPT,
                    "false: nopreempt and equal priority (a recovered node does not take the VIP back); true: the first"
                            + " VIP holder of the plan is preferred and takes the VIP back once its check passes again.")),
            List.of());

    public static final Section CLUSTER = new Section("cluster", "The cluster as Kubernetes sees it.", List.of(
            new Key("name", DNS_LABEL, true, null, "The cluster's name: a DNS-1123 label (a-z, 0-9, '-', at most 63)."),
            new Key("kubernetesVersion", new Type(null, "Kubernetes version", map("type", "string",
                    "pattern", kubernetesVersionPattern(), "examples", List.of("1.34", "1.31.4"))), true, null,
                    "\"1.31\" (newest patch at boot) or \"1.31.4\" (pinned); a minor piimage knows, 1."
                            + KubernetesVersion.OLDEST_MINOR + " to 1." + KubernetesVersion.NEWEST_MINOR
                            + ". Quote it: an unquoted 1.31 is a number in YAML."),
            new Key("podSubnet", CIDR, false, DEFAULT_POD_SUBNET.toString(),
                    "Pod network, /24 or wider (each Kubernetes node gets a /24 of it); must not overlap serviceSubnet or network.subnet."),
            new Key("serviceSubnet", CIDR, false, DEFAULT_SERVICE_SUBNET.toString(),
                    "Service network, /12 to /28 (the cluster DNS service gets its 10th address); must not overlap podSubnet or network.subnet."),
            new Key("dnsDomain", new Type(null, "DNS domain", map("type", "string", "maxLength", 253,
                    "pattern", whole(Syntax.DNS_LABEL.pattern() + "(\\." + Syntax.DNS_LABEL.pattern() + ")*"))),
                    false, DEFAULT_DNS_DOMAIN, "The cluster's DNS domain (lowercase labels joined by dots)."),
            new Key("cni", choice(Cni.values(), Cni::key), false, DEFAULT_CNI.key(),
                    "The pod network add-on applied after kubeadm init."),
            new Key("keyAlgorithm", choice(KeyAlgorithm.values(), KeyAlgorithm::key), false, DEFAULT_KEY_ALGORITHM.key(),
                    "Key type of the cluster's PKI (kubeadm's encryptionAlgorithm). ecdsa-p384 needs Kubernetes 1.34 or newer.")),
            List.of());

    public static final Section ENDPOINT = new Section("endpoint", "The stable control-plane endpoint every client and node uses.", List.of(
            new Key("vip", IPV4, true, null,
                    "The virtual IP moved between hosts by VRRP (keepalived); inside network.subnet, not the gateway, no node's address."),
            new Key("port", integer(1, 65535), false, DEFAULT_PORT,
                    "The endpoint's port: HAProxy's listening port (dedicated, stacked: not 6443) or the apiserver's 6443 (vip-only)."),
            new Key("loadBalancer", choice(LoadBalancerMode.values(), LoadBalancerMode::key), true, null,
                    "dedicated: load-balancer nodes run HAProxy + keepalived; stacked: every control plane runs them;"
                            + " vip-only: keepalived on the control planes, no HAProxy. No default: it decides which Pis exist."),
            new Key("vrrp", section(VRRP), false, null, "How keepalived moves the VIP.")),
            List.of(
                    map("if", map("properties", map("loadBalancer", map("const", LoadBalancerMode.STACKED.key())),
                                    "required", List.of("loadBalancer")),
                            "then", map("required", List.of("port"), "properties", map("port", map("not", map("const", DEFAULT_PORT),
                                    "description", "stacked: HAProxy shares the host with the apiserver, which holds 6443.")))),
                    map("if", map("properties", map("loadBalancer", map("const", LoadBalancerMode.VIP_ONLY.key())),
                                    "required", List.of("loadBalancer")),
                            "then", map("properties", map("port", map("const", DEFAULT_PORT,
                                    "description", "vip-only: clients reach the apiserver itself."))))));

    public static final Section NETWORK = new Section("network", "The cluster LAN.", List.of(
            new Key("subnet", CIDR, true, null, "The cluster LAN; every node address and the VIP lie inside it."),
            new Key("gateway", IPV4, true, null, "The default route of every node."),
            new Key("dns", listOf(IPV4, 1), false, null, "Name servers; default [gateway]."),
            new Key("searchDomains", listOf(HOSTNAME, 0), false, null, "DNS search domains of every node."),
            new Key("interface", INTERFACE, false, DEFAULT_INTERFACE, "The cluster-side network interface of every node.")),
            List.of());

    public static final Section MIRROR = new Section("os.registryMirrors.<host>", "One registry mirror.", List.of(
            new Key("endpoint", new Type(null, "http:// or https:// URL", map("type", "string", "pattern", "^https?://[^/]")),
                    true, null, "Where containerd pulls this registry's images from."),
            new Key("insecure", BOOLEAN, false, false, "true: skip TLS verification for the endpoint.")),
            List.of());

    public static final Section OS = new Section("os", "What every Pi's operating system is set up with.", List.of(
            new Key("image", IMAGE_PROFILE, false, DEFAULT_IMAGE, "The base image every node starts from."),
            new Key("user", new Type(null, "user name", map("type", "string", "pattern", whole(Syntax.USER.pattern()))),
                    false, null, "The login user; default: the image's usual user (ubuntu / pi)."),
            new Key("sshAuthorizedKeys", listOf(SSH_KEY, 1), true, null,
                    "Public keys allowed to log in ([options] type key [comment], as authorized_keys holds them); password login stays off."),
            new Key("timezone", new Type(null, "time zone", map("type", "string", "minLength", 1,
                    "examples", List.of("Asia/Tokyo", "Europe/Berlin"))), false, DEFAULT_TIMEZONE, "The nodes' time zone (a tz database name)."),
            new Key("locale", new Type(null, "locale", map("type", "string", "pattern", whole(Syntax.LOCALE.pattern()),
                    "examples", List.of("en_US.UTF-8"))), false, null, "The nodes' locale; default: the image's."),
            new Key("ntpServers", listOf(HOSTNAME, 0), false, null,
                    "NTP servers (host names or IPv4 addresses); default: the distribution's."),
            new Key("registryMirrors", new Type(null, "mapping of registry host to mirror", map("type", "object",
                    "propertyNames", map("pattern", whole(hostnamePattern() + "(:[0-9]{1,5})?")),
                    "additionalProperties", MIRROR)), false, null,
                    "containerd mirrors / private registries, by the registry host images name (host or host:port).")),
            List.of());

    public static final Section TAINT = new Section("taint", "One Kubernetes taint.", List.of(
            new Key("key", TEXT, true, null, "The taint's key (a label key)."),
            new Key("value", STRING, false, "", "The taint's value (a label value)."),
            new Key("effect", choice("one of " + String.join(", ", TAINT_EFFECTS), TAINT_EFFECTS), true, null,
                    "What the taint does to pods that do not tolerate it.")),
            List.of());

    static final Type TAINT_TEXT = new Type(null, "key[=value]:Effect", map("type", "string",
            "description", "key[=value]:Effect, as kubectl taint writes it.",
            "pattern", "^[^=:\\s]+(=[^=:\\s]*)?:(" + String.join("|", TAINT_EFFECTS) + ")$"));

    public static final Section NODE = new Section("node", "One Raspberry Pi of the cluster.", List.of(
            new Key("name", DNS_LABEL, true, null, "The node's hostname; unique."),
            new Key("role", choice(Role.values(), Role::key), true, null, "What the node runs."),
            new Key("address", IPV4, true, null, "Static address inside network.subnet; unique; not the VIP."),
            new Key("model", choice(PiModel.values(), PiModel::key), false, null,
                    "Raspberry Pi generation; pi3 (1 GiB) cannot be a control plane, pi5 gets the 4K-page kernel."),
            new Key("labels", new Type(null, "mapping of label key to label value", map("type", "object",
                    "additionalProperties", map("type", "string", "maxLength", 63,
                            "pattern", whole("(" + Syntax.LABEL_NAME.pattern() + ")?")))), false, null,
                    "Kubernetes node labels (control planes and workers only)."),
            new Key("taints", listOf(new Type(null, "taint", map("oneOf", List.of(section(TAINT), TAINT_TEXT))), 0),
                    false, null, "Kubernetes taints (control planes and workers only): key[=value]:Effect or key/value/effect."),
            new Key("image", IMAGE_PROFILE, false, null, "Per-node override of os.image."),
            new Key("interface", INTERFACE, false, null, "Per-node override of network.interface (a gateway's cluster side)."),
            new Key("uplink", INTERFACE, false, null, "Gateway only, and required there: the home-LAN side (DHCP), masqueraded.")),
            List.of(
                    map("if", map("properties", map("role", map("enum", List.of(Role.LOAD_BALANCER.key(), Role.GATEWAY.key()))),
                                    "required", List.of("role")),
                            "then", map("not", map("anyOf", List.of(map("required", List.of("labels")), map("required", List.of("taints")))))),
                    map("if", map("properties", map("role", map("not", map("const", Role.GATEWAY.key()))), "required", List.of("role")),
                            "then", map("not", map("required", List.of("uplink")))),
                    map("if", map("properties", map("role", map("const", Role.GATEWAY.key())), "required", List.of("role")),
                            "then", map("required", List.of("uplink")))));

    static final Type NODE_TYPE = new Type("node", "mapping (node)", map("$section", NODE));

    public static final Section TOP = new Section("", "One Kubernetes cluster of Raspberry Pis.", List.of(
            new Key("apiVersion", new Type(null, Plan.API_VERSION, map("const", Plan.API_VERSION)), true, null,
                    "The plan format; exactly " + Plan.API_VERSION + "."),
            new Key("cluster", section(CLUSTER), true, null, CLUSTER.doc()),
            new Key("endpoint", section(ENDPOINT), true, null, ENDPOINT.doc()),
            new Key("network", section(NETWORK), true, null, NETWORK.doc()),
            new Key("os", section(OS), true, null, OS.doc() + " Required: it holds the SSH keys."),
            new Key("nodes", listOf(NODE_TYPE, 1), true, null,
                    "Every Pi of the cluster. The first control plane listed runs kubeadm init.")),
            List.of());

    /** Every section with fixed keys, in the order docs/plan-format.md describes them. */
    public static final List<Section> SECTIONS = List.of(TOP, CLUSTER, ENDPOINT, VRRP, NETWORK, OS, MIRROR, NODE, TAINT);

    /**
     * Why {@code line} is not an SSH public key the plan accepts (os.sshAuthorizedKeys), or null when it is;
     * the reason never repeats the text (a pasted private key must not reach a log).
     */
    public static String sshKeyProblem(String line) {
        return Syntax.sshKeyProblem(line);
    }

    /** Whether {@code text} is a valid cluster or node name (a DNS-1123 label). */
    public static boolean isName(String text) {
        return Syntax.isDnsLabel(text);
    }

    // ---- helpers ----

    /** The text forms JSON Schema patterns use for addresses (ECMA-262 regexes, anchored by {@link #whole}). */
    private static final class Ipv4Text {
        static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
        static final String ADDRESS = "(" + OCTET + "\\.){3}" + OCTET;
    }

    private static String hostnamePattern() {
        String label = Syntax.HOST_LABEL.pattern();
        return label + "(\\." + label + ")*";
    }

    private static String kubernetesVersionPattern() {
        String minors = IntStream.rangeClosed(KubernetesVersion.OLDEST_MINOR, KubernetesVersion.NEWEST_MINOR)
                .mapToObj(Integer::toString).collect(Collectors.joining("|"));
        return "^1\\.(" + minors + ")(\\.[0-9]{1,4})?$";
    }

    private static String whole(String pattern) {
        return "^(" + pattern + ")$";
    }

    /** An insertion-ordered map of key, value pairs (Map.of has no order, and the schema is read by people). */
    static Map<String, Object> map(Object... pairs) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((String) pairs[i], pairs[i + 1]);
        }
        return map;
    }

    private static Map<String, Object> unmodifiable(Map<String, Object> map) {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** Every key of every section, as "section.key" (the top level's keys stand alone). */
    public static List<String> allKeyPaths() {
        List<String> paths = new ArrayList<>();
        for (Section section : SECTIONS) {
            for (Key key : section.keys()) {
                paths.add(section.name().isEmpty() ? key.name() : section.name() + "." + key.name());
            }
        }
        return paths;
    }
}
