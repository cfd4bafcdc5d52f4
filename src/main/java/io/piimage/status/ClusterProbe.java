package io.piimage.status;

import io.piimage.plan.Node;
import io.piimage.plan.Plan;
import io.piimage.status.ClusterStatus.CertificateExpiry;
import io.piimage.status.ClusterStatus.Check;
import io.piimage.status.ClusterStatus.EtcdMember;
import io.piimage.status.ClusterStatus.Level;
import io.piimage.status.ClusterStatus.NodeState;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.net.ssl.SSLParameters;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Looks at a running cluster from the operator's machine and compares it with the plan: the VIP
 * accepts connections, {@code /readyz} answers through the VIP and on each apiserver directly, the
 * planned nodes are registered and Ready (by name), etcd's member list (through its JSON gateway, with
 * the etcd client certificate) holds every control plane as a voting member, and no certificate in use
 * has expired. Every network call has a short, bounded timeout; nothing is retried here ({@link
 * ClusterWait} repeats whole probes).
 */
public final class ClusterProbe {

    /** kubeadm's apiserver port on every control plane. */
    public static final int APISERVER_PORT = 6443;
    /** etcd's client port on every (stacked) control plane. */
    public static final int ETCD_PORT = 2379;
    /** Certificates closer than this to their end are reported as warnings. */
    public static final Duration EXPIRY_WARNING = Duration.ofDays(30);

    private final Plan plan;
    private final AdminKubeconfig kubeconfig;
    private final TlsIdentity etcd;
    private final Duration timeout;
    private final Clock clock;
    private final HttpClient api;
    private final HttpClient etcdClient;

    /**
     * @param etcd the etcd client identity (etcd CA + etcd-client cert); null skips the etcd checks,
     *             which then fail with the reason
     */
    public ClusterProbe(Plan plan, AdminKubeconfig kubeconfig, TlsIdentity etcd, Duration timeout, Clock clock) {
        this.plan = Objects.requireNonNull(plan);
        this.kubeconfig = Objects.requireNonNull(kubeconfig);
        this.etcd = etcd;
        this.timeout = timeout;
        this.clock = clock;
        this.api = client(kubeconfig.identity());
        this.etcdClient = etcd == null ? null : client(etcd);
    }

    private HttpClient client(TlsIdentity identity) {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        return HttpClient.newBuilder()
                .sslContext(identity.sslContext())
                .sslParameters(parameters)
                // etcd multiplexes gRPC and its JSON gateway on one port and sends h2 to gRPC.
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public ClusterStatus probe() {
        List<Check> checks = new ArrayList<>();
        Map<String, CertificateExpiry> certificates = new LinkedHashMap<>();
        Instant now = clock.instant();

        String endpoint = plan.endpoint().hostPort();
        URI server = URI.create(kubeconfig.server());
        boolean vipOpen = tcpOpen(plan.endpoint().vip().toString(), plan.endpoint().port());
        checks.add(new Check("vip", vipOpen ? Level.OK : Level.FAIL,
                vipOpen ? endpoint + " accepts connections" : endpoint + " does not accept connections"));
        if (!server.getHost().equals(plan.endpoint().vip().toString()) || server.getPort() != plan.endpoint().port()) {
            checks.add(new Check("kubeconfig", Level.WARN, "the kubeconfig's server " + kubeconfig.server()
                    + " is not the plan's endpoint " + plan.endpoint().url()));
        }

        Reply readyz = vipOpen ? get(api, server.resolve("/readyz")) : Reply.failed("not tried: the VIP does not accept connections");
        checks.add(new Check("readyz via VIP", readyz.status() == 200 ? Level.OK : Level.FAIL,
                readyz.status() == 200 ? server.resolve("/readyz") + ": ok" : server.resolve("/readyz") + ": " + readyz.describe()));
        readyz.peerCertificate().ifPresent(c -> expiry(certificates, "apiserver via VIP", c, now));

        URI nodesFrom = readyz.status() == 200 ? server : null;
        for (Node cp : plan.controlPlanes()) {
            URI direct = URI.create("https://" + cp.address() + ":" + APISERVER_PORT + "/readyz");
            Reply reply = get(api, direct);
            checks.add(new Check("apiserver " + cp.name(), reply.status() == 200 ? Level.OK : Level.FAIL,
                    direct + ": " + (reply.status() == 200 ? "ok" : reply.describe())));
            reply.peerCertificate().ifPresent(c -> expiry(certificates, "apiserver " + cp.name(), c, now));
            if (nodesFrom == null && reply.status() == 200) {
                nodesFrom = URI.create("https://" + cp.address() + ":" + APISERVER_PORT);
            }
        }

        List<NodeState> nodes = nodes(nodesFrom, checks);
        List<EtcdMember> members = etcd(checks);

        X509Certificate admin = TlsIdentity.certificates(kubeconfig.certificatePem()).get(0);
        expiry(certificates, "admin client (kubeconfig)", admin, now);
        TlsIdentity.certificates(kubeconfig.caPem()).forEach(c -> expiry(certificates, "cluster CA", c, now));
        if (etcd != null) {
            expiry(certificates, "etcd client", etcd.certificate(), now);
            etcd.trusted().forEach(c -> expiry(certificates, "etcd CA", c, now));
        }
        for (CertificateExpiry certificate : certificates.values()) {
            if (certificate.level() != Level.OK) {
                checks.add(new Check("certificate " + certificate.what(), certificate.level(),
                        certificate.subject() + (certificate.level() == Level.FAIL ? " expired " : " expires ")
                                + certificate.notAfter()));
            }
        }
        return new ClusterStatus(plan.cluster().name(), now, checks, nodes, members, List.copyOf(certificates.values()));
    }

    private List<NodeState> nodes(URI from, List<Check> checks) {
        List<Node> planned = new ArrayList<>(plan.controlPlanes());
        planned.addAll(plan.workers());
        if (from == null) {
            checks.add(new Check("nodes", Level.FAIL, "no apiserver answered: cannot list nodes"));
            return planned.stream().map(n -> new NodeState(n.name(), n.role().key(), false, false, "unknown")).toList();
        }
        Reply reply = get(api, from.resolve("/api/v1/nodes"));
        if (reply.status() != 200) {
            checks.add(new Check("nodes", Level.FAIL, from.resolve("/api/v1/nodes") + ": " + reply.describe()));
            return planned.stream().map(n -> new NodeState(n.name(), n.role().key(), false, false, "unknown")).toList();
        }
        Map<String, String> readiness = new LinkedHashMap<>();
        try {
            for (Object item : list(map(parseJson(reply.body())).get("items"))) {
                Map<?, ?> node = map(item);
                String name = String.valueOf(map(node.get("metadata")).get("name"));
                String ready = "Unknown";
                Object status = node.get("status");
                if (status != null) {
                    for (Object condition : list(map(status).get("conditions"))) {
                        Map<?, ?> c = map(condition);
                        if ("Ready".equals(c.get("type"))) {
                            ready = String.valueOf(c.get("status"));
                        }
                    }
                }
                readiness.put(name, ready);
            }
        } catch (RuntimeException e) {
            checks.add(new Check("nodes", Level.FAIL, "unreadable node list: " + e.getMessage()));
            return planned.stream().map(n -> new NodeState(n.name(), n.role().key(), false, false, "unknown")).toList();
        }
        List<NodeState> states = new ArrayList<>();
        for (Node node : planned) {
            String ready = readiness.get(node.name());
            boolean registered = ready != null;
            boolean isReady = "True".equals(ready);
            states.add(new NodeState(node.name(), node.role().key(), registered, isReady,
                    !registered ? "not registered" : isReady ? "Ready" : "NotReady (Ready=" + ready + ")"));
        }
        List<String> missing = states.stream().filter(s -> !s.registered()).map(NodeState::name).toList();
        List<String> notReady = states.stream().filter(s -> s.registered() && !s.ready()).map(NodeState::name).toList();
        long ready = states.stream().filter(NodeState::ready).count();
        String detail = ready + "/" + states.size() + " planned nodes Ready"
                + (missing.isEmpty() ? "" : "; not registered: " + String.join(", ", missing))
                + (notReady.isEmpty() ? "" : "; not Ready: " + String.join(", ", notReady));
        checks.add(new Check("nodes", missing.isEmpty() && notReady.isEmpty() ? Level.OK : Level.FAIL, detail));
        Set<String> plannedNames = planned.stream().map(Node::name).collect(Collectors.toSet());
        Set<String> extra = new TreeSet<>(readiness.keySet());
        extra.removeAll(plannedNames);
        if (!extra.isEmpty()) {
            checks.add(new Check("unplanned nodes", Level.WARN, "registered but not in the plan: " + String.join(", ", extra)));
        }
        return states;
    }

    private List<EtcdMember> etcd(List<Check> checks) {
        if (etcdClient == null) {
            checks.add(new Check("etcd", Level.FAIL, "no etcd client certificate (the secrets directory has it)"));
            return List.of();
        }
        List<EtcdMember> members = null;
        for (Node cp : plan.controlPlanes()) {
            URI uri = URI.create("https://" + cp.address() + ":" + ETCD_PORT + "/v3/cluster/member/list");
            Reply reply = post(etcdClient, uri, "{}");
            boolean answered = reply.status() == 200;
            if (answered && members == null) {
                try {
                    members = parseMembers(reply.body());
                } catch (RuntimeException e) {
                    checks.add(new Check("etcd " + cp.name(), Level.FAIL, uri + ": unreadable member list: " + e.getMessage()));
                    continue;
                }
            }
            checks.add(new Check("etcd " + cp.name(), answered ? Level.OK : Level.FAIL,
                    cp.address() + ":" + ETCD_PORT + ": " + (answered ? "answers" : reply.describe())));
        }
        if (members == null) {
            checks.add(new Check("etcd members", Level.FAIL, "no etcd member answered"));
            return List.of();
        }
        Set<String> voters = new TreeSet<>();
        Set<String> learners = new TreeSet<>();
        for (EtcdMember member : members) {
            String name = member.name().isEmpty() ? "(unstarted " + member.id() + ")" : member.name();
            (member.learner() ? learners : voters).add(name);
        }
        List<String> missing = plan.controlPlanes().stream().map(Node::name).filter(n -> !voters.contains(n)).toList();
        Set<String> unplanned = new TreeSet<>(voters);
        plan.controlPlanes().forEach(n -> unplanned.remove(n.name()));
        String detail = members.size() + " member(s): " + String.join(", ", voters)
                + (learners.isEmpty() ? "; no learner" : "; learner(s): " + String.join(", ", learners))
                + (missing.isEmpty() ? "" : "; control planes not voting members: " + String.join(", ", missing));
        checks.add(new Check("etcd members", missing.isEmpty() && learners.isEmpty() ? Level.OK : Level.FAIL, detail));
        if (!unplanned.isEmpty()) {
            checks.add(new Check("etcd unplanned members", Level.WARN, "members not in the plan: " + String.join(", ", unplanned)
                    + " (a re-flashed card leaves its old member behind: etcdctl member remove)"));
        }
        return members;
    }

    static List<EtcdMember> parseMembers(String json) {
        List<EtcdMember> members = new ArrayList<>();
        Object list = map(parseJson(json)).get("members");
        for (Object item : list == null ? List.of() : list(list)) {
            Map<?, ?> m = map(item);
            List<String> urls = new ArrayList<>();
            Object clientUrls = m.get("clientURLs");
            if (clientUrls != null) {
                list(clientUrls).forEach(u -> urls.add(String.valueOf(u)));
            }
            members.add(new EtcdMember(String.valueOf(m.get("ID")), m.get("name") == null ? "" : String.valueOf(m.get("name")),
                    Boolean.TRUE.equals(m.get("isLearner")), urls));
        }
        return members;
    }

    private static void expiry(Map<String, CertificateExpiry> into, String what, X509Certificate certificate, Instant now) {
        Instant notAfter = certificate.getNotAfter().toInstant();
        Level level = notAfter.isBefore(now) ? Level.FAIL
                : notAfter.isBefore(now.plus(EXPIRY_WARNING)) ? Level.WARN : Level.OK;
        into.putIfAbsent(what, new CertificateExpiry(what, certificate.getSubjectX500Principal().getName(), notAfter, level));
    }

    private boolean tcpOpen(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** An HTTP answer, or why there was none ({@code status} -1). */
    record Reply(int status, String body, String error, X509Certificate peer) {
        static Reply failed(String error) {
            return new Reply(-1, "", error, null);
        }

        java.util.Optional<X509Certificate> peerCertificate() {
            return java.util.Optional.ofNullable(peer);
        }

        String describe() {
            if (status < 0) {
                return error;
            }
            String text = body.strip();
            return "HTTP " + status + (text.isEmpty() ? "" : " " + (text.length() > 160 ? text.substring(0, 160) + "..." : text));
        }
    }

    private Reply get(HttpClient client, URI uri) {
        return send(client, HttpRequest.newBuilder(uri).timeout(timeout).GET().build());
    }

    private Reply post(HttpClient client, URI uri, String json) {
        return send(client, HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static Reply send(HttpClient client, HttpRequest request) {
        try {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            X509Certificate peer = response.sslSession().map(session -> {
                try {
                    Certificate[] chain = session.getPeerCertificates();
                    return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    return null;
                }
            }).orElse(null);
            return new Reply(response.statusCode(), response.body(), null, peer);
        } catch (java.net.http.HttpTimeoutException e) {
            return Reply.failed("timed out");
        } catch (java.net.ConnectException e) {
            return Reply.failed("connection refused or unreachable");
        } catch (javax.net.ssl.SSLException e) {
            return Reply.failed("TLS failed: " + e.getMessage());
        } catch (IOException e) {
            String message = e.getMessage();
            Throwable cause = e.getCause();
            if (cause instanceof javax.net.ssl.SSLException ssl) {
                return Reply.failed("TLS failed: " + ssl.getMessage());
            }
            return Reply.failed(e.getClass().getSimpleName() + (message == null ? "" : ": " + message));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Reply.failed("interrupted");
        }
    }

    /** JSON is YAML 1.2: the YAML loader the project already has reads it. */
    static Object parseJson(String json) {
        return new Load(LoadSettings.builder().build()).loadFromString(json);
    }

    private static Map<?, ?> map(Object value) {
        if (value instanceof Map<?, ?> m) {
            return m;
        }
        throw new IllegalArgumentException("expected an object, found " + (value == null ? "nothing" : value.getClass().getSimpleName()));
    }

    private static List<?> list(Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException("expected a list, found " + value.getClass().getSimpleName());
    }
}
