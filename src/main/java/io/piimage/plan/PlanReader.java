package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Walks the YAML tree against the {@code piimage/v1} format ({@link PlanFormat}; docs/plan-format.md), fills defaults and
 * collects the values into a {@link Draft}. A value that is missing or wrong is reported and left
 * null; the cross-section rules ({@link PlanRules}) then check whatever could be read.
 */
final class PlanReader {

    /** A key written in the wrong section gets "'vip' belongs in endpoint"; only keys with one home. */
    private static final Map<String, String> HOMES = homes();

    private static Map<String, String> homes() {
        Map<String, List<String>> sections = new LinkedHashMap<>();
        sections.put("cluster", PlanFormat.CLUSTER.names());
        sections.put("endpoint", PlanFormat.ENDPOINT.names());
        sections.put("endpoint.vrrp", PlanFormat.VRRP.names());
        sections.put("network", PlanFormat.NETWORK.names());
        sections.put("os", PlanFormat.OS.names());
        sections.put("each node (under nodes)", PlanFormat.NODE.names());
        Map<String, String> homes = new HashMap<>();
        Set<String> shared = new TreeSet<>();
        sections.forEach((section, keys) -> keys.forEach(key -> {
            if (homes.putIfAbsent(key, section) != null) {
                shared.add(key);
            }
        }));
        shared.forEach(homes::remove);
        return Map.copyOf(homes);
    }

    /** Everything read from the plan; null where a value was missing or wrong (and reported). */
    static final class Draft {
        String clusterName;
        KubernetesVersion kubernetesVersion;
        Cidr podSubnet = PlanFormat.DEFAULT_POD_SUBNET;
        Cidr serviceSubnet = PlanFormat.DEFAULT_SERVICE_SUBNET;
        String dnsDomain = PlanFormat.DEFAULT_DNS_DOMAIN;
        Cni cni = PlanFormat.DEFAULT_CNI;
        KeyAlgorithm keyAlgorithm = PlanFormat.DEFAULT_KEY_ALGORITHM;

        Ipv4 vip;
        Integer port = PlanFormat.DEFAULT_PORT;
        LoadBalancerMode loadBalancer;
        Integer routerId; // null: derived from the cluster name when the plan is built
        Boolean unicast = PlanFormat.DEFAULT_UNICAST;
        Boolean preempt = PlanFormat.DEFAULT_PREEMPT;

        Cidr subnet;
        Ipv4 gateway;
        List<Ipv4> dns; // null: [gateway]
        List<String> searchDomains = List.of();
        String networkInterface = PlanFormat.DEFAULT_INTERFACE;

        String image = PlanFormat.DEFAULT_IMAGE;
        String user;
        List<String> sshAuthorizedKeys;
        String timezone = PlanFormat.DEFAULT_TIMEZONE;
        String locale;
        List<String> ntpServers = List.of();
        List<RegistryMirror> registryMirrors = List.of();

        List<NodeDraft> nodes = new ArrayList<>();
        boolean nodesRead; // false when nodes is missing or not a list (already reported)
    }

    /** One node as read; {@code path} ("nodes[2]") finds its positions, {@code label} names it. */
    static final class NodeDraft {
        final String path;
        final String label;
        String name;
        Role role;
        Ipv4 address;
        PiModel model;
        Map<String, String> labels = Map.of();
        List<Taint> taints = List.of();
        String image;
        String interfaceName;
        String uplink;

        NodeDraft(String path, String label) {
            this.path = path;
            this.label = label;
        }
    }

    private final Diagnostics diagnostics;
    private final Positions positions;
    private final Set<String> imageProfiles;
    private final Draft draft = new Draft();

    PlanReader(Diagnostics diagnostics, Positions positions, Set<String> imageProfiles) {
        this.diagnostics = diagnostics;
        this.positions = positions;
        this.imageProfiles = imageProfiles;
    }

    Draft read(Node root) {
        if (!(root instanceof MappingNode rootMapping)) {
            diagnostics.error(Position.of(root), "the plan must be a mapping (apiVersion: ..., cluster: ..., nodes: ...), not "
                    + YamlMap.describe(root));
            return draft;
        }
        YamlMap top = map(rootMapping, "", "", PlanFormat.TOP);
        String apiVersion = top.text("apiVersion");
        if (apiVersion != null && !apiVersion.equals(Plan.API_VERSION)) {
            top.error("apiVersion", "must be '" + Plan.API_VERSION + "', not '" + apiVersion + "'");
        }
        MappingNode cluster = top.mapping("cluster");
        if (cluster != null) {
            readCluster(map(cluster, "cluster", "cluster", PlanFormat.CLUSTER));
        }
        MappingNode endpoint = top.mapping("endpoint");
        if (endpoint != null) {
            readEndpoint(map(endpoint, "endpoint", "endpoint", PlanFormat.ENDPOINT));
        }
        MappingNode network = top.mapping("network");
        if (network != null) {
            readNetwork(map(network, "network", "network", PlanFormat.NETWORK));
        }
        MappingNode os = top.mapping("os"); // required: it holds the SSH keys
        if (os != null) {
            readOs(map(os, "os", "os", PlanFormat.OS));
        }
        SequenceNode nodes = top.sequence("nodes");
        if (nodes != null) {
            draft.nodesRead = true;
            int index = 0;
            for (Node node : nodes.getValue()) {
                NodeDraft read = readNode(node, index++);
                if (read != null) {
                    draft.nodes.add(read);
                }
            }
        }
        return draft;
    }

    private YamlMap map(MappingNode node, String path, String label, PlanFormat.Section keys) {
        return new YamlMap(node, path, label, keys, HOMES, diagnostics, positions);
    }

    private void readCluster(YamlMap m) {
        draft.clusterName = m.text("name");
        if (draft.clusterName != null && !Syntax.isDnsLabel(draft.clusterName)) {
            m.error("name", "'" + draft.clusterName + "' is not a valid name: " + Syntax.DNS_LABEL_RULE);
            draft.clusterName = null;
        }
        String version = m.text("kubernetesVersion");
        if (version != null) {
            try {
                draft.kubernetesVersion = KubernetesVersion.parse(version);
            } catch (IllegalArgumentException e) {
                m.error("kubernetesVersion", e.getMessage());
            }
        }
        if (m.value("podSubnet") != null) {
            draft.podSubnet = m.cidr("podSubnet");
        }
        if (m.value("serviceSubnet") != null) {
            draft.serviceSubnet = m.cidr("serviceSubnet");
        }
        if (m.value("dnsDomain") != null) {
            draft.dnsDomain = m.text("dnsDomain");
            if (draft.dnsDomain != null && !Syntax.isDnsDomain(draft.dnsDomain)) {
                m.error("dnsDomain", "'" + draft.dnsDomain + "' is not a DNS domain (lowercase labels joined by dots, e.g. cluster.local)");
                draft.dnsDomain = null;
            }
        }
        if (m.value("cni") != null) {
            draft.cni = m.choice("cni", Cni.values());
        }
        if (m.value("keyAlgorithm") != null) {
            draft.keyAlgorithm = m.choice("keyAlgorithm", KeyAlgorithm.values());
        }
    }

    private void readEndpoint(YamlMap m) {
        draft.vip = m.ipv4("vip");
        if (m.value("port") != null) {
            draft.port = m.integer("port", 1, 65535);
        }
        // No default (docs/plan-format.md): the topology decides which Pis exist, so the user names it.
        draft.loadBalancer = m.choice("loadBalancer", LoadBalancerMode.values());
        MappingNode vrrp = m.mapping("vrrp");
        if (vrrp != null) {
            YamlMap v = map(vrrp, "endpoint.vrrp", "endpoint.vrrp", PlanFormat.VRRP);
            if (v.value("routerId") != null) {
                draft.routerId = v.integer("routerId", 1, 255);
            }
            if (v.value("unicast") != null) {
                draft.unicast = v.bool("unicast");
            }
            if (v.value("preempt") != null) {
                draft.preempt = v.bool("preempt");
            }
        }
    }

    private void readNetwork(YamlMap m) {
        draft.subnet = m.cidr("subnet");
        draft.gateway = m.ipv4("gateway");
        List<YamlMap.Item> dns = m.items("dns");
        if (dns != null) {
            if (dns.isEmpty() && m.value("dns") != null) {
                m.error("dns", "needs at least one server (leave dns out to use network.gateway)");
            }
            List<Ipv4> servers = new ArrayList<>();
            for (YamlMap.Item item : dns) {
                Ipv4 server = ipv4(item);
                if (server != null) {
                    servers.add(server);
                }
            }
            draft.dns = servers;
        } else if (m.value("dns") != null) {
            draft.dns = List.of(); // wrong type, reported
        }
        List<YamlMap.Item> search = m.items("searchDomains");
        if (search != null) {
            List<String> domains = new ArrayList<>();
            for (YamlMap.Item item : search) {
                if (Syntax.isHostname(item.text())) {
                    domains.add(item.text());
                } else {
                    diagnostics.error(item.position(), item.where() + ": '" + item.text()
                            + "' is not a domain name (e.g. lab.local)");
                }
            }
            draft.searchDomains = domains;
        }
        if (m.value("interface") != null) {
            draft.networkInterface = interfaceName(m, "interface");
        }
    }

    private void readOs(YamlMap m) {
        if (m.value("image") != null) {
            draft.image = imageProfile(m, "image");
        }
        draft.user = m.text("user");
        if (draft.user != null && !Syntax.isUserName(draft.user)) {
            m.error("user", "'" + draft.user + "' is not a valid user name (lowercase letters, digits, '_' and '-',"
                    + " starting with a letter or '_', at most 32 characters)");
        }
        List<YamlMap.Item> keys = m.items("sshAuthorizedKeys");
        if (keys != null) {
            if (keys.isEmpty() && m.value("sshAuthorizedKeys") != null) {
                m.error("sshAuthorizedKeys", "needs at least one key: password login stays off, so without a key nobody can log in");
            }
            List<String> valid = new ArrayList<>();
            for (YamlMap.Item item : keys) {
                String problem = Syntax.sshKeyProblem(item.text());
                if (problem == null) {
                    valid.add(item.text().strip());
                } else {
                    diagnostics.error(item.position(), item.where() + ": " + problem);
                }
            }
            draft.sshAuthorizedKeys = valid;
        }
        if (m.value("timezone") != null) {
            draft.timezone = m.text("timezone");
            if (draft.timezone != null && !ZoneId.getAvailableZoneIds().contains(draft.timezone)) {
                m.error("timezone", "'" + draft.timezone + "' is not a time zone (e.g. Asia/Tokyo, Europe/Berlin, Etc/UTC)"
                        + Syntax.didYouMean(draft.timezone, new TreeSet<>(ZoneId.getAvailableZoneIds())));
            }
        }
        draft.locale = m.text("locale");
        if (draft.locale != null && !Syntax.isLocale(draft.locale)) {
            m.error("locale", "'" + draft.locale + "' is not a locale name (e.g. en_US.UTF-8)");
        }
        List<YamlMap.Item> ntp = m.items("ntpServers");
        if (ntp != null) {
            List<String> servers = new ArrayList<>();
            for (YamlMap.Item item : ntp) {
                boolean numeric = item.text().chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
                if (numeric ? ipv4(item) != null : Syntax.isHostname(item.text())) {
                    servers.add(item.text());
                } else if (!numeric) {
                    diagnostics.error(item.position(), item.where() + ": '" + item.text()
                            + "' is not a host name or IPv4 address (e.g. ntp.nict.jp)");
                }
            }
            draft.ntpServers = servers;
        }
        MappingNode mirrors = m.mapping("registryMirrors");
        if (mirrors != null) {
            draft.registryMirrors = readMirrors(map(mirrors, "os.registryMirrors", "os.registryMirrors", null));
        }
    }

    private List<RegistryMirror> readMirrors(YamlMap all) {
        List<RegistryMirror> mirrors = new ArrayList<>();
        for (String host : all.keys()) {
            if (!Syntax.isRegistryHost(host)) {
                diagnostics.error(all.keyPosition(host), "os.registryMirrors: '" + host
                        + "' is not a registry host (host or host:port, as image names write it, e.g. registry.lab:5005)");
                continue;
            }
            MappingNode settings = all.mapping(host, true);
            if (settings == null) {
                continue;
            }
            YamlMap m = map(settings, all.path(host), "os.registryMirrors '" + host + "'", PlanFormat.MIRROR);
            String endpoint = m.text("endpoint");
            if (endpoint != null && !Syntax.isHttpUrl(endpoint)) {
                m.error("endpoint", "'" + endpoint + "' is not an http:// or https:// URL (e.g. http://registry.lab:5005)");
                endpoint = null;
            }
            Boolean insecure = m.value("insecure") != null ? m.bool("insecure") : Boolean.FALSE;
            if (endpoint != null && insecure != null) {
                mirrors.add(new RegistryMirror(host, endpoint, insecure));
            }
        }
        return mirrors;
    }

    private NodeDraft readNode(Node node, int index) {
        String path = "nodes[" + index + "]";
        positions.put(path, Position.of(node));
        if (!(node instanceof MappingNode mapping)) {
            diagnostics.error(Position.of(node), "node #" + (index + 1)
                    + ": must be a mapping (name:, role:, address: ...), not " + YamlMap.describe(node));
            return null;
        }
        String name = YamlMap.peekText(mapping, "name");
        String label = name != null && !name.isBlank() ? "node '" + name + "'" : "node #" + (index + 1);
        NodeDraft n = new NodeDraft(path, label);
        YamlMap m = map(mapping, path, label, PlanFormat.NODE);
        n.name = m.text("name");
        if (n.name != null && !Syntax.isDnsLabel(n.name)) {
            m.error("name", "'" + n.name + "' is not a valid name: " + Syntax.DNS_LABEL_RULE);
            n.name = null;
        }
        n.role = m.choice("role", Role.values());
        n.address = m.ipv4("address");
        n.model = m.choice("model", PiModel.values());
        if (m.written("labels")) {
            if (n.role != null && !n.role.isKubernetes()) {
                diagnostics.error(m.keyPosition("labels"), notKubernetes(n, "labels"));
            } else {
                n.labels = labels(m);
            }
        }
        if (m.written("taints")) {
            if (n.role != null && !n.role.isKubernetes()) {
                diagnostics.error(m.keyPosition("taints"), notKubernetes(n, "taints"));
            } else {
                n.taints = taints(m);
            }
        }
        if (m.value("image") != null) {
            n.image = imageProfile(m, "image");
        }
        if (m.value("interface") != null) {
            n.interfaceName = interfaceName(m, "interface");
        }
        if (m.written("uplink") && n.role != null && n.role != Role.GATEWAY) {
            diagnostics.error(m.keyPosition("uplink"), m.where("uplink")
                    + ": only a gateway node has an uplink (its home-LAN interface); this node is a " + n.role);
        } else if (n.role == Role.GATEWAY) {
            if (m.value("uplink") == null) {
                diagnostics.error(m.position(), "missing required key 'uplink' " + m.in()
                        + ": a gateway needs the name of its home-LAN interface (e.g. eth0)");
            } else {
                n.uplink = interfaceName(m, "uplink");
            }
        }
        return n;
    }

    private static String notKubernetes(NodeDraft n, String key) {
        return n.label + " " + key + ": a " + n.role + " node does not run Kubernetes; " + key
                + " apply only to control-plane and worker nodes";
    }

    private Map<String, String> labels(YamlMap node) {
        MappingNode mapping = node.mapping("labels", false);
        if (mapping == null) {
            return Map.of();
        }
        YamlMap m = map(mapping, node.path("labels"), node.where("labels"), null);
        Map<String, String> labels = new LinkedHashMap<>();
        for (String key : m.keys()) {
            String problem = Syntax.labelKeyProblem(key);
            if (problem != null) {
                diagnostics.error(m.keyPosition(key), m.label() + ": '" + key + "' is not a valid label key: " + problem);
                continue;
            }
            String value = m.value(key) == null ? "" : m.text(key, false);
            if (value == null) {
                continue;
            }
            problem = Syntax.labelValueProblem(value);
            if (problem != null) {
                diagnostics.error(m.valuePosition(key), node.label() + " label '" + key + "': '" + value
                        + "' is not a valid label value: " + problem);
                continue;
            }
            labels.put(key, value);
        }
        return labels;
    }

    private List<Taint> taints(YamlMap node) {
        SequenceNode list = node.sequence("taints", false);
        if (list == null) {
            return List.of();
        }
        List<Taint> taints = new ArrayList<>();
        Map<String, Integer> firstByKeyAndEffect = new HashMap<>();
        int index = 0;
        for (Node item : list.getValue()) {
            String where = node.label() + " taint #" + (index + 1);
            String path = node.path("taints") + "[" + index++ + "]";
            Taint taint;
            if (item instanceof MappingNode mapping) {
                YamlMap m = map(mapping, path, where, PlanFormat.TAINT);
                taint = taint(where, Position.of(item), m.text("key"), m.value("value") == null ? "" : m.text("value"),
                        m.text("effect"), m.valuePosition("key"), m.valuePosition("value"), m.valuePosition("effect"));
            } else if (item instanceof ScalarNode scalar && !YamlMap.isNull(scalar)) {
                taint = taintText(where, scalar);
            } else {
                diagnostics.error(Position.of(item), where + ": must be key[=value]:Effect or a mapping"
                        + " (key:, value:, effect:), not " + (YamlMap.isNull(item) ? "empty" : YamlMap.describe(item)));
                taint = null;
            }
            if (taint != null) {
                // Kubernetes keeps one taint per key and effect; a second would be refused when the node registers.
                Integer first = firstByKeyAndEffect.putIfAbsent(taint.key() + " " + taint.effect(), index);
                if (first != null) {
                    diagnostics.error(Position.of(item), where + ": taint #" + first + " has the same key '" + taint.key()
                            + "' and effect " + taint.effect() + "; a node has one taint per key and effect");
                } else {
                    taints.add(taint);
                }
            }
        }
        return taints;
    }

    /** "key[=value]:Effect", as kubectl taint writes it. */
    private Taint taintText(String where, ScalarNode scalar) {
        String text = scalar.getValue();
        Position at = Position.of(scalar);
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            diagnostics.error(at, where + ": '" + text + "' is not a taint (key[=value]:Effect, e.g. dedicated=gpu:NoSchedule)");
            return null;
        }
        String keyValue = text.substring(0, colon);
        int equals = keyValue.indexOf('=');
        String key = equals < 0 ? keyValue : keyValue.substring(0, equals);
        String value = equals < 0 ? "" : keyValue.substring(equals + 1);
        return taint(where, at, key, value, text.substring(colon + 1), at, at, at);
    }

    private Taint taint(String where, Position at, String key, String value, String effect,
            Position keyAt, Position valueAt, Position effectAt) {
        boolean ok = key != null && value != null && effect != null;
        if (key != null) {
            String problem = Syntax.labelKeyProblem(key);
            if (problem != null) {
                diagnostics.error(keyAt, where + ": '" + key + "' is not a valid taint key: " + problem);
                ok = false;
            }
        }
        if (value != null) {
            String problem = Syntax.labelValueProblem(value);
            if (problem != null) {
                diagnostics.error(valueAt, where + ": '" + value + "' is not a valid taint value: " + problem);
                ok = false;
            }
        }
        if (effect != null && !PlanFormat.TAINT_EFFECTS.contains(effect)) {
            diagnostics.error(effectAt, where + ": effect '" + effect + "' is not one of "
                    + String.join(", ", PlanFormat.TAINT_EFFECTS) + Syntax.didYouMean(effect, PlanFormat.TAINT_EFFECTS));
            ok = false;
        }
        return ok ? new Taint(key, value, effect) : null;
    }

    private String imageProfile(YamlMap m, String key) {
        String image = m.text(key, false);
        if (image != null && !imageProfiles.contains(image)) {
            Set<String> known = new TreeSet<>(imageProfiles);
            m.error(key, "'" + image + "' is not a known image profile (" + (known.isEmpty() ? "none is installed" : String.join(", ", known))
                    + ")" + Syntax.didYouMean(image, known));
            return null;
        }
        return image;
    }

    private static String interfaceName(YamlMap m, String key) {
        String name = m.text(key, false);
        if (name != null && !Syntax.isInterfaceName(name)) {
            m.error(key, "'" + name + "' is not a network interface name (1-15 letters, digits, '.', '-' or '_', e.g. eth0)");
            return null;
        }
        return name;
    }

    private Ipv4 ipv4(YamlMap.Item item) {
        try {
            return Ipv4.parse(item.text());
        } catch (IllegalArgumentException e) {
            diagnostics.error(item.position(), item.where() + ": " + e.getMessage());
            return null;
        }
    }
}
