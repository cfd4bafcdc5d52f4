package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The assembly protocol run for real in network namespaces: each node's rendered piimage-firstboot
 * (all phases) runs under a systemd stand-in, with stand-ins for kubeadm, kubectl, apt and systemctl.
 * The kubeadm stand-in grows a REAL etcd cluster from the plan's prebaked etcd CA (learner add,
 * start, promote), so the join lock (in that etcd, over its JSON gateway with the prebaked client
 * certificate) and etcd's own one-learner rule are exercised for real. A load-balancer stand-in holds
 * the VIP. Timing knobs of kubernetes.env are shortened (lock TTL 10 s, back-off 1-2 s).
 */
class AssemblyProtocolTest {

    static final int LOCK_TTL = 10;

    @TempDir
    Path dir;

    int subnet;

    @BeforeEach
    void tools() {
        ExternalTool.requireRoot();
        for (String tool : List.of("ip", "etcd", "etcdctl", "openssl", "curl", "jq", "python3", "setsid")) {
            ExternalTool.require(tool);
        }
        subnet = ThreadLocalRandom.current().nextInt(20, 250);
    }

    String address(int host) {
        return "10.77." + subnet + "." + host;
    }

    String plan(int controlPlanes, int workers) {
        StringBuilder nodes = new StringBuilder("  - {name: lb1, role: load-balancer, address: " + address(5) + "}\n");
        for (int i = 1; i <= controlPlanes; i++) {
            nodes.append("  - {name: cp").append(i).append(", role: control-plane, address: ").append(address(10 + i)).append("}\n");
        }
        for (int i = 1; i <= workers; i++) {
            nodes.append("  - {name: w").append(i).append(", role: worker, address: ").append(address(20 + i)).append("}\n");
        }
        return """
                apiVersion: piimage/v1
                cluster:
                  name: pa-proto
                  kubernetesVersion: "1.31.4"
                  keyAlgorithm: ecdsa-p256
                endpoint:
                  vip: %s
                  port: 9000
                  loadBalancer: dedicated
                network:
                  subnet: 10.77.%d.0/24
                  gateway: %s
                os:
                  sshAuthorizedKeys: ["%s"]
                nodes:
                %s""".formatted(address(10), subnet, address(1), BakedNodes.SSH_KEY, nodes);
    }

    /** A baked cluster on a namespace LAN, the VIP served by the load-balancer stand-in. */
    final class Cluster implements AutoCloseable {
        BakedNodes baked;
        final NamespaceLan lan;
        final List<String> controlPlanes = new ArrayList<>();
        final List<String> kubernetesNodes = new ArrayList<>();

        Cluster(int controlPlaneCount, int workerCount) {
            this(controlPlaneCount, workerCount, 0, 0);
        }

        /** With LAN hosts for {@code laterControlPlanes} and {@code laterWorkers} more, planned only later. */
        Cluster(int controlPlaneCount, int workerCount, int laterControlPlanes, int laterWorkers) {
            this(controlPlaneCount, workerCount, laterControlPlanes, laterWorkers, null);
        }

        /** Baked with {@code bake --restore-from restoreFrom} (null: none). */
        Cluster(int controlPlaneCount, int workerCount, int laterControlPlanes, int laterWorkers, Path restoreFrom) {
            baked = BakedNodes.bake(dir, "pa-proto", plan(controlPlaneCount, workerCount), BakedNodes.CLOCK, restoreFrom);
            Map<String, String> hosts = new LinkedHashMap<>();
            hosts.put("lb", address(10));
            for (int i = 1; i <= controlPlaneCount; i++) {
                controlPlanes.add("cp" + i);
                hosts.put("cp" + i, address(10 + i));
            }
            kubernetesNodes.addAll(controlPlanes);
            for (int i = 1; i <= workerCount; i++) {
                kubernetesNodes.add("w" + i);
                hosts.put("w" + i, address(20 + i));
            }
            for (int i = 1; i <= laterControlPlanes; i++) {
                hosts.put("cp" + (controlPlaneCount + i), address(10 + controlPlaneCount + i));
            }
            for (int i = 1; i <= laterWorkers; i++) {
                hosts.put("w" + (workerCount + i), address(20 + workerCount + i));
            }
            lan = new NamespaceLan(dir, hosts);
            lan.startLoadBalancer("lb", 9000, controlPlanes.stream().map(hosts::get).toList());
            for (String node : kubernetesNodes) {
                layOut(node);
            }
        }

        Path root(String node) {
            return dir.resolve("roots").resolve(node);
        }

        void layOut(String node) {
            try {
                baked.layOut(node, Files.createDirectories(root(node)));
                Files.writeString(root(node).resolve("etc/piimage/kubernetes.env"), """
                        # shortened for the test
                        PIIMAGE_LOCK_TTL=%d
                        PIIMAGE_LOCK_WAIT=150
                        PIIMAGE_READY_WAIT=150
                        PIIMAGE_ENDPOINT_WAIT=30
                        PIIMAGE_RETRY_BASE=1
                        PIIMAGE_RETRY_MAX=2
                        PIIMAGE_POLL=0.5
                        """.formatted(LOCK_TTL), java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void start(List<String> nodes) {
            for (String node : nodes) {
                lan.startNode(node, root(node), 150);
            }
            lan.go();
        }

        /** Waits (bounded) until every named node's unit stand-in has exited; returns its exit codes. */
        Map<String, Integer> await(List<String> nodes, Duration limit) throws Exception {
            long deadline = System.nanoTime() + limit.toNanos();
            Map<String, Integer> codes = new LinkedHashMap<>();
            while (System.nanoTime() < deadline && codes.size() < nodes.size()) {
                for (String node : nodes) {
                    Path exit = root(node).resolve("unit-exit");
                    if (!codes.containsKey(node) && Files.exists(exit) && !Files.readString(exit).isBlank()) {
                        codes.put(node, Integer.parseInt(Files.readString(exit).strip()));
                    }
                }
                Thread.sleep(200);
            }
            return codes;
        }

        String log(String node) throws IOException {
            Path log = root(node).resolve("unit.log");
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        }

        String logs() throws IOException {
            StringBuilder out = new StringBuilder();
            for (String node : kubernetesNodes) {
                out.append("==== ").append(node).append('\n').append(log(node));
            }
            return out.append("==== timeline\n").append(timelineText()).toString();
        }

        String timelineText() throws IOException {
            Path timeline = lan.shared.resolve("timeline");
            return Files.exists(timeline) ? Files.readString(timeline) : "";
        }

        List<Event> timeline() throws IOException {
            return timelineText().lines().map(Event::parse).toList();
        }

        /** The etcd members as etcd reports them, asked with the prebaked client certificate. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> members(String via) {
            Path r = root(via);
            ProcessResult list = lan.exec("lb", Duration.ofSeconds(20), List.of("etcdctl",
                    "--endpoints=" + controlPlanes.stream().map(cp -> "https://" + lan.hosts.get(cp) + ":2379")
                            .collect(Collectors.joining(",")),
                    "--cacert=" + r.resolve("etc/kubernetes/pki/etcd/ca.crt"),
                    "--cert=" + r.resolve("etc/piimage/pki/etcd-client.crt"),
                    "--key=" + r.resolve("etc/piimage/pki/etcd-client.key"),
                    "member", "list", "-w", "json"));
            assertThat(list.exitCode()).as(list.output()).isZero();
            Map<String, Object> json = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(list.stdout());
            return (List<Map<String, Object>>) json.get("members");
        }

        List<String> votingMembers(String via) {
            return members(via).stream()
                    .filter(m -> !Boolean.TRUE.equals(m.get("isLearner")) && m.get("name") != null)
                    .map(m -> (String) m.get("name")).sorted().toList();
        }

        @Override
        public void close() {
            lan.close();
        }
    }

    record Event(long millis, String what, String node, String detail) {
        static Event parse(String line) {
            String[] parts = line.split(" ", 4);
            return new Event(Long.parseLong(parts[0]), parts[1], parts[2], parts.length > 3 ? parts[3] : "");
        }
    }

    /** Learner lifetimes: from the successful member add (join-start) to the promotion (join-end). */
    static List<long[]> joinIntervals(List<Event> timeline) {
        List<long[]> intervals = new ArrayList<>();
        for (Event start : timeline) {
            if (start.what().equals("join-start")) {
                timeline.stream()
                        .filter(e -> e.what().equals("join-end") && e.detail().equals(start.detail()))
                        .findFirst()
                        .ifPresent(end -> intervals.add(new long[] {start.millis(), end.millis()}));
            }
        }
        return intervals;
    }

    static void assertNoOverlap(List<long[]> intervals) {
        List<long[]> sorted = new ArrayList<>(intervals);
        sorted.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < sorted.size(); i++) {
            assertThat(sorted.get(i)[0]).as("a join started before the previous one finished").isGreaterThan(sorted.get(i - 1)[1]);
        }
    }

    @Test
    void threeControlPlanesAndAWorkerPoweredOnTogetherAssembleJoiningOneAtATime_kubeadmStandIn() throws Exception {
        try (Cluster cluster = new Cluster(3, 1)) {
            // Each node's image download takes this long (the kubeadm stand-in sleeps it once per node).
            Files.writeString(cluster.lan.shared.resolve("pull-seconds"), PULL_SECONDS + "\n");
            long started = System.nanoTime();
            cluster.start(cluster.kubernetesNodes);
            Map<String, Integer> codes = cluster.await(cluster.kubernetesNodes, Duration.ofSeconds(150));
            long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
            assertThat(codes).as(cluster.logs()).containsOnly(
                    Map.entry("cp1", 0), Map.entry("cp2", 0), Map.entry("cp3", 0), Map.entry("w1", 0));
            System.out.println("[pa] 3 control planes + 1 worker assembled in " + seconds + " s");

            List<Event> timeline = cluster.timeline();
            assertThat(timeline.stream().filter(e -> e.what().equals("init-start")).map(Event::node)).containsExactly("cp1");
            List<long[]> joins = joinIntervals(timeline);
            assertThat(joins).as(cluster.logs()).hasSize(2);
            assertNoOverlap(joins);
            assertThat(cluster.timelineText()).doesNotContain("too many learner");
            assertThat(cluster.votingMembers("cp2")).containsExactly("cp1", "cp2", "cp3");
            assertDownloadsBeforeTheLock(cluster, timeline);

            for (String node : cluster.kubernetesNodes) {
                Path root = cluster.root(node);
                assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt"))).contains("state=done");
                String userData = Files.readString(root.resolve("boot/firmware/user-data"));
                assertThat(userData).as(node + " boot user-data").doesNotContain("PRIVATE KEY")
                        .doesNotContain(cluster.baked.file("cp1", "/etc/piimage/bootstrap-token").strip())
                        .contains("#cloud-config", "/etc/piimage/node.env");
                new Load(LoadSettings.builder().build()).loadFromString(userData);
                assertThat(root.resolve("var/lib/cloud/instance/user-data.txt")).content().doesNotContain("PRIVATE KEY");
                assertThat(root.resolve("var/lib/cloud/instance/user-data.txt.i")).doesNotExist();
                assertThat(root.resolve("var/lib/cloud/instance/cloud-config.txt")).doesNotExist();
                assertThat(root.resolve("var/lib/cloud/instance/obj.pkl")).doesNotExist();
                assertThat(root.resolve("var/lib/cloud/instance/scripts")).doesNotExist();
                assertThat(root.resolve("var/lib/piimage/done")).exists();
            }
            // The CNI went in right after init, on the first control plane only.
            assertThat(Files.readString(cluster.root("cp1").resolve("stand-in-calls.log")))
                    .contains("kubectl --kubeconfig " + cluster.root("cp1") + "/etc/kubernetes/admin.conf apply -f "
                            + cluster.root("cp1") + "/etc/piimage/cni/flannel.yaml")
                    .contains("systemctl enable --now piimage-join-watch.timer");

            // The bootstrap token kubeadm init made went right after init; every other node joined with
            // its own join certificate (file discovery), none with the token.
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("token-deleted")).map(Event::node))
                    .containsExactly("cp1");
            // Right after init the load balancer has no apiserver in rotation yet (2 good health checks
            // first): the deletion waits for the endpoint's /readyz instead of failing and backing off.
            assertThat(cluster.log("cp1")).as(cluster.log("cp1"))
                    .doesNotContain("cannot delete the bootstrap token")
                    .containsPattern("(?s)kubeadm init: done.*https://" + Pattern.quote(address(10)) + ":9000/readyz: ok after"
                            + ".*bootstrap token [a-z0-9]+ deleted");
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("file-discovery")).map(Event::node))
                    .containsExactlyInAnyOrder("cp2", "cp3", "w1");
            assertThat(cluster.lan.shared.resolve("token")).doesNotExist();

            // The join watch (a timer on cp1): every planned node has joined and is labelled, so it stops.
            ProcessResult watch = cluster.lan.exec("cp1", Duration.ofSeconds(30), List.of("env",
                    "PATH=" + cluster.lan.bin + ":" + System.getenv("PATH"), "PIIMAGE_ROOT=" + cluster.root("cp1"),
                    "PA_SHARED=" + cluster.lan.shared, "bash", cluster.root("cp1") + "/usr/local/sbin/piimage-join-watch"));
            assertThat(watch.exitCode()).as(watch.output()).isZero();
            assertThat(watch.stderr()).contains("every planned node has joined");

            // A second run after success does nothing.
            for (String node : cluster.kubernetesNodes) {
                long calls = Files.readAllLines(cluster.root(node).resolve("stand-in-calls.log")).size();
                ProcessResult again = cluster.lan.exec(node, Duration.ofSeconds(30), List.of("env",
                        "PATH=" + cluster.lan.bin + ":" + System.getenv("PATH"), "PIIMAGE_ROOT=" + cluster.root(node),
                        "PA_SHARED=" + cluster.lan.shared, "bash", cluster.root(node) + "/usr/local/sbin/piimage-firstboot"));
                assertThat(again.exitCode()).isZero();
                assertThat(again.stderr()).contains("already assembled; nothing to do");
                assertThat(Files.readAllLines(cluster.root(node).resolve("stand-in-calls.log"))).hasSize((int) calls);
            }

            // Re-flash cp1 (the first control plane): power it off, give it a fresh card, power it on.
            cluster.lan.kill("cp1");
            Files.walk(cluster.root("cp1")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            cluster.layOut("cp1");
            int initsBefore = (int) cluster.timeline().stream().filter(e -> e.what().equals("init-start")).count();
            cluster.lan.startNode("cp1", cluster.root("cp1"), 150);
            Map<String, Integer> reflashed = cluster.await(List.of("cp1"), Duration.ofSeconds(120));
            assertThat(reflashed).as(cluster.logs()).containsEntry("cp1", 0);
            assertThat(cluster.log("cp1")).contains("joins the running cluster instead of initialising")
                    .doesNotContain("bootstrap token");
            assertThat(cluster.lan.shared.resolve("token")).doesNotExist();
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("init-start"))).hasSize(initsBefore);
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("join-end") && e.node().equals("cp1"))).hasSize(1);
            assertThat(cluster.votingMembers("cp2")).containsExactly("cp1", "cp2", "cp3");
        }
    }

    /**
     * Months after the first assembly (the bootstrap token long gone), the plan grows by two control planes
     * (an odd number stays) and a worker and is baked again with the same secrets: the new cards join on power-up with their
     * join certificates, no command on any node. The stand-in checks each certificate with openssl
     * against the cluster CA at the later date (its clock is the later bake's).
     */
    @Test
    void controlPlanesAndAWorkerBakedMonthsLaterJoinWithoutAnyToken_kubeadmStandIn() throws Exception {
        try (Cluster cluster = new Cluster(1, 1, 2, 1)) {
            cluster.start(cluster.kubernetesNodes);
            assertThat(cluster.await(cluster.kubernetesNodes, Duration.ofSeconds(150)).values()).as(cluster.logs())
                    .hasSize(2).containsOnly(0);
            assertThat(cluster.lan.shared.resolve("token")).as("the bootstrap token is gone").doesNotExist();

            java.time.Instant later = BakedNodes.CLOCK.instant().plus(Duration.ofDays(150));
            cluster.baked = BakedNodes.bake(dir, "pa-proto", plan(3, 2), java.time.Clock.fixed(later, java.time.ZoneOffset.UTC));
            Files.writeString(cluster.lan.shared.resolve("now"), later.getEpochSecond() + "\n");
            List<String> added = List.of("cp2", "cp3", "w2");
            cluster.controlPlanes.addAll(List.of("cp2", "cp3"));
            cluster.kubernetesNodes.addAll(added);
            for (String node : added) {
                cluster.layOut(node);
                assertThat(cluster.root(node).resolve("etc/piimage/bootstrap-token")).doesNotExist();
                assertThat(Files.readString(cluster.root(node).resolve("etc/piimage/kubeadm/join.yaml")))
                        .doesNotContain("bootstrapToken:", "tlsBootstrapToken").contains("kubeConfigPath: \"/etc/piimage/kubeadm/discovery.conf\"");
                cluster.lan.startNode(node, cluster.root(node), 150);
            }
            Map<String, Integer> codes = cluster.await(added, Duration.ofSeconds(150));
            assertThat(codes).as(cluster.logs()).containsEntry("cp2", 0).containsEntry("cp3", 0).containsEntry("w2", 0);
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("file-discovery")).map(Event::node))
                    .containsExactlyInAnyOrder("w1", "cp2", "cp3", "w2");
            assertNoOverlap(joinIntervals(cluster.timeline()));
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("file-discovery") && e.node().equals("w2")))
                    .allMatch(e -> e.detail().contains("CN=piimage:join:w2") && e.detail().contains("O=system:bootstrappers:kubeadm:default-node-token"));
            assertThat(cluster.timelineText()).doesNotContain("token-created");
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", "cp2", "cp3");

            // A card of the first bake flashed now is refused: its join certificate expired long ago.
            Path old = dir.resolve("roots/w1-old");
            Files.createDirectories(old.resolve("etc/piimage/kubeadm"));
            for (String file : List.of("etc/piimage/node.env", "etc/piimage/kubeadm/discovery.conf", "etc/piimage/kubeadm/join.yaml")) {
                Files.copy(cluster.root("w1").resolve(file), old.resolve(file));
            }
            ProcessResult refused = cluster.lan.exec("w1", Duration.ofSeconds(30), List.of("env",
                    "PATH=" + cluster.lan.bin + ":" + System.getenv("PATH"), "PIIMAGE_ROOT=" + old,
                    "PA_SHARED=" + cluster.lan.shared, "kubeadm", "join", "--config", old + "/etc/piimage/kubeadm/join.yaml"));
            assertThat(refused.exitCode()).as(refused.output()).isNotZero();
            assertThat(refused.stderr()).contains("Unauthorized", "expired");
        }
    }

    /**
     * {@code bake --restore-from}: a snapshot of a real etcd holding keys goes onto the first control
     * plane's card only; its first boot checks it, restores it into /var/lib/etcd (etcdutl from the etcd
     * image, here the host's real etcd tool behind a ctr stand-in), kubeadm init runs over it (the
     * stand-in starts the REAL etcd on the restored data), and the other control planes join that
     * cluster: the keys are read back through the assembled cluster, and the snapshot left the card.
     */
    @Test
    void aClusterBakedWithRestoreFromStartsFromTheSnapshotAndTheOthersJoinIt_kubeadmStandIn() throws Exception {
        Path snapshot = snapshotOfAnEtcdWithKeys();
        try (Cluster cluster = new Cluster(3, 0, 0, 0, snapshot)) {
            assertThat(cluster.root("cp1").resolve("boot/firmware/piimage-restore.db")).exists();
            assertThat(cluster.root("cp2").resolve("boot/firmware/piimage-restore.db")).doesNotExist();
            cluster.start(cluster.kubernetesNodes);
            Map<String, Integer> codes = cluster.await(cluster.kubernetesNodes, Duration.ofSeconds(150));
            assertThat(codes.values()).as(cluster.logs()).hasSize(3).containsOnly(0);
            assertThat(cluster.log("cp1")).contains("restoring etcd from the card's snapshot", "etcd restored into /var/lib/etcd",
                    "removed the etcd snapshot from the boot partition");
            assertThat(Files.readString(cluster.root("cp1").resolve("stand-in-calls.log")))
                    .contains("--ignore-preflight-errors=DirAvailable--var-lib-etcd", "etcdutl snapshot restore");
            assertThat(cluster.root("cp1").resolve("boot/firmware/piimage-restore.db")).doesNotExist();
            assertThat(cluster.votingMembers("cp2")).containsExactly("cp1", "cp2", "cp3");
            Path r = cluster.root("cp2");
            ProcessResult get = cluster.lan.exec("lb", Duration.ofSeconds(20), List.of("etcdctl",
                    "--endpoints=https://" + cluster.lan.hosts.get("cp3") + ":2379",
                    "--cacert=" + r.resolve("etc/kubernetes/pki/etcd/ca.crt"),
                    "--cert=" + r.resolve("etc/piimage/pki/etcd-client.crt"),
                    "--key=" + r.resolve("etc/piimage/pki/etcd-client.key"),
                    "get", "/registry/restored/key-7", "--print-value-only"));
            assertThat(get.stdout().strip()).as(get.output()).isEqualTo("value-7");
        }
    }

    /** A snapshot (etcdctl snapshot save) of a throwaway real etcd on loopback holding /registry/restored/key-0..9. */
    Path snapshotOfAnEtcdWithKeys() throws Exception {
        int client = EtcdSnapshotTest.freePort();
        int peer = EtcdSnapshotTest.freePort();
        String endpoint = "http://127.0.0.1:" + client;
        Process etcd = new ProcessBuilder("etcd", "--name", "old", "--data-dir", dir + "/old-etcd",
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                "--initial-cluster", "old=http://127.0.0.1:" + peer).redirectErrorStream(true)
                .redirectOutput(dir.resolve("old-etcd.log").toFile()).start();
        try {
            ProcessResult put = null;
            for (int i = 0; i < 100 && (put == null || put.exitCode() != 0); i++) {
                Thread.sleep(200);
                put = ExternalTool.run(Duration.ofSeconds(10), List.of("etcdctl", "--endpoints=" + endpoint, "put", "/registry/restored/key-0",
                        "value-0"), dir);
            }
            assertThat(put.exitCode()).as(put.output()).isZero();
            for (int i = 1; i < 10; i++) {
                assertThat(ExternalTool.run(Duration.ofSeconds(10), List.of("etcdctl", "--endpoints=" + endpoint, "put",
                        "/registry/restored/key-" + i, "value-" + i), dir).exitCode()).isZero();
            }
            Path file = dir.resolve("old.db");
            ProcessResult save = ExternalTool.run(Duration.ofSeconds(30), List.of("etcdctl", "--endpoints=" + endpoint, "snapshot",
                    "save", file.toString()), dir);
            assertThat(save.exitCode()).as(save.output()).isZero();
            return file;
        } finally {
            etcd.destroyForcibly();
        }
    }

    static final int PULL_SECONDS = 3;
    static final Pattern HELD = Pattern.compile("join lock released \\(held ([0-9]+\\.[0-9]{3}) s\\)");

    /**
     * Control planes pull their images before anything is held: kubeadm init/join never had to pull in
     * its preflight, each joiner's pull ended before its etcd member was added, and its log says the
     * images were in before it asked for the lock. The time each joiner held the lock (the serialized
     * part of the assembly) is printed: with the kubeadm stand-in it is etcd's member add, start and
     * promotion, not a Pi's real kubeadm join.
     */
    static void assertDownloadsBeforeTheLock(Cluster cluster, List<Event> timeline) throws IOException {
        List<String> controlPlanes = cluster.controlPlanes;
        assertThat(timeline).as(cluster.logs())
                .noneMatch(e -> e.what().equals("images-pulled-by-preflight") && controlPlanes.contains(e.node()));
        StringBuilder held = new StringBuilder();
        for (String node : controlPlanes) {
            long pulled = timeline.stream().filter(e -> e.what().equals("images-pulled") && e.node().equals(node))
                    .mapToLong(Event::millis).findFirst().orElseThrow(() -> new AssertionError(node + " pulled no images"));
            if (node.equals("cp1")) {
                continue;
            }
            long joined = timeline.stream().filter(e -> e.what().equals("join-start") && e.node().equals(node))
                    .mapToLong(Event::millis).findFirst().orElseThrow();
            assertThat(joined - pulled).as(node + ": its download ended before its join").isGreaterThanOrEqualTo(PULL_SECONDS * 1000L);
            String log = cluster.log(node);
            assertThat(log.indexOf("images: pulled")).as(node).isNotNegative().isLessThan(log.indexOf("join lock acquired"));
            // The last hold: the one whose join succeeded.
            Matcher m = HELD.matcher(log);
            String last = null;
            while (m.find()) {
                last = m.group(1);
            }
            assertThat(last).as(log).isNotNull();
            held.append(' ').append(node).append(' ').append(last).append(" s");
        }
        System.out.println("[pa] join lock held (kubeadm stand-in, real etcd):" + held);
    }

    @Test
    void fiveControlPlanesPoweredOnTogetherNeverOverlapTheirJoins_kubeadmStandIn() throws Exception {
        try (Cluster cluster = new Cluster(5, 0)) {
            long started = System.nanoTime();
            cluster.start(cluster.kubernetesNodes);
            Map<String, Integer> codes = cluster.await(cluster.kubernetesNodes, Duration.ofSeconds(150));
            System.out.println("[pa] 5 control planes assembled in " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
            assertThat(codes.values()).as(cluster.logs()).hasSize(5).containsOnly(0);
            List<long[]> joins = joinIntervals(cluster.timeline());
            assertThat(joins).hasSize(4);
            assertNoOverlap(joins);
            assertThat(cluster.timelineText()).doesNotContain("too many learner");
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", "cp2", "cp3", "cp4", "cp5");
        }
    }

    @Test
    void aPlannedControlPlaneThatNeverBootsBlocksNoOne_kubeadmStandIn() throws Exception {
        try (Cluster cluster = new Cluster(5, 1)) {
            List<String> booting = cluster.kubernetesNodes.stream().filter(n -> !n.equals("cp3")).toList();
            cluster.start(booting);
            Map<String, Integer> codes = cluster.await(booting, Duration.ofSeconds(150));
            assertThat(codes.values()).as(cluster.logs()).hasSize(5).containsOnly(0);
            assertNoOverlap(joinIntervals(cluster.timeline()));
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", "cp2", "cp4", "cp5");
        }
    }

    @Test
    void killingTheNodeThatHoldsTheJoinLockMidJoinFreesTheLockWithinItsTtl_kubeadmStandIn() throws Exception {
        try (Cluster cluster = new Cluster(3, 0)) {
            Files.writeString(cluster.lan.shared.resolve("pause-next-join"), "");
            cluster.start(cluster.kubernetesNodes);
            String victim = null;
            for (int i = 0; i < 300 && victim == null; i++) {
                try (var claimed = Files.list(cluster.lan.shared)) {
                    victim = claimed.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("pause-claimed-by-"))
                            .map(n -> n.substring("pause-claimed-by-".length())).findFirst().orElse(null);
                }
                Thread.sleep(200);
            }
            assertThat(victim).as(cluster.logs()).isNotNull();
            Thread.sleep(1000);
            long killedAt = System.currentTimeMillis();
            cluster.lan.kill(victim);
            String survivor = victim.equals("cp2") ? "cp3" : "cp2";

            Map<String, Integer> codes = cluster.await(List.of("cp1", survivor), Duration.ofSeconds(120));
            assertThat(codes).as(cluster.logs()).containsEntry("cp1", 0).containsEntry(survivor, 0);
            long survivorJoined = cluster.timeline().stream()
                    .filter(e -> e.what().equals("join-start") && e.node().equals(survivor))
                    .mapToLong(Event::millis).findFirst().orElseThrow();
            long waited = survivorJoined - killedAt;
            System.out.println("[pa] lock free " + waited + " ms after the holder was killed (TTL " + LOCK_TTL + " s)");
            assertThat(waited).as(cluster.logs()).isLessThanOrEqualTo(LOCK_TTL * 1000L + 5000);
            assertThat(cluster.log(survivor)).contains("removing etcd member", "(" + victim + ")");
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", survivor);

            // The killed node powers on again: it resets what it left and joins.
            cluster.lan.startNode(victim, cluster.root(victim), 150);
            Map<String, Integer> again = cluster.await(List.of(victim), Duration.ofSeconds(120));
            assertThat(again).as(cluster.logs()).containsEntry(victim, 0);
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", "cp2", "cp3");
        }
    }
}
