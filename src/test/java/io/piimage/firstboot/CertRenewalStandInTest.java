package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.firstboot.AssemblyProtocolTest.Event;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control planes' rendered certificate renewal (piimage-cert-renew) on a cluster assembled by the
 * protocol test's machinery (network namespaces, the nodes' rendered first boot, a REAL etcd holding
 * the join lock), with the kubeadm stand-in answering `certs renew all` from its own certificates and
 * a crictl stand-in playing kubelet (a static pod runs while its manifest is in place). The clock is
 * a stand-in too (PIIMAGE_TEST_NOW): the renewers run as if months had passed.
 */
class CertRenewalStandInTest {

    static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path dir;

    @Test
    void threeControlPlanesDueTogetherRenewAtTheThresholdOneAtATimeAndOnlyOnce_kubeadmAndKubeletStandIns() throws Exception {
        AssemblyProtocolTest protocol = new AssemblyProtocolTest();
        protocol.dir = dir;
        protocol.tools();
        Instant beforeAssembly = Instant.now();
        try (AssemblyProtocolTest.Cluster cluster = protocol.new Cluster(3, 0)) {
            cluster.start(cluster.kubernetesNodes);
            Map<String, Integer> codes = cluster.await(cluster.kubernetesNodes, Duration.ofSeconds(150));
            assertThat(codes).as(cluster.logs()).containsOnly(Map.entry("cp1", 0), Map.entry("cp2", 0), Map.entry("cp3", 0));
            Instant afterAssembly = Instant.now();
            for (String cp : cluster.controlPlanes) {
                assertThat(Files.readString(cluster.root(cp).resolve("stand-in-calls.log")))
                        .contains("systemctl enable --now piimage-etcd-snapshot.timer piimage-cert-renew.timer");
            }
            // kubelet, as far as the renewal sees it.
            Path crictl = cluster.lan.bin.resolve("crictl");
            Files.delete(crictl);
            Files.createSymbolicLink(crictl, NamespaceLan.STANDINS.resolve("crictl-stand-in"));
            Files.writeString(cluster.lan.shared.resolve("renew-seconds"), "2\n");

            // kubeadm's certificates last 365 days; renewal at 60 days left. An hour before: nothing.
            Instant early = beforeAssembly.plus(DAY.multipliedBy(305)).minus(Duration.ofHours(1));
            Map<String, ProcessResult> notYet = renewAll(cluster, early);
            notYet.forEach((cp, result) -> {
                assertThat(result.exitCode()).as(cp + ": " + result.output()).isZero();
                assertThat(result.stderr()).as(cp).contains("nothing due").contains("60 days left");
            });
            assertThat(cluster.timelineText()).doesNotContain("renew-start");

            // A minute past the threshold on all three at once: each renews, one at a time.
            Instant due = afterAssembly.plus(DAY.multipliedBy(305)).plus(Duration.ofMinutes(1));
            Map<String, ProcessResult> renewed = renewAll(cluster, due);
            String timelineText = cluster.timelineText();
            renewed.forEach((cp, result) -> {
                assertThat(result.exitCode()).as(cp + ": " + result.output() + timelineText).isZero();
                assertThat(result.stderr()).as(cp).contains("renewing, one control plane at a time", "join lock acquired",
                        "etcd restarted", "kube-apiserver restarted", "kube-controller-manager restarted", "kube-scheduler restarted",
                        "join lock released", "certificates renewed");
            });
            List<Event> timeline = cluster.timeline();
            List<long[]> windows = new ArrayList<>();
            for (String cp : cluster.controlPlanes) {
                List<Event> starts = timeline.stream().filter(e -> e.what().equals("renew-start") && e.node().equals(cp)).toList();
                assertThat(starts).as(cp + " renews exactly once").hasSize(1);
                long start = starts.get(0).millis();
                for (String pod : List.of("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")) {
                    assertThat(timeline).as(cp + " restarts " + pod + " after the renewal")
                            .anyMatch(e -> e.what().equals("pod-stopped") && e.node().equals(cp) && e.detail().equals(pod) && e.millis() > start);
                }
                long end = timeline.stream().filter(e -> e.what().equals("pod-running") && e.node().equals(cp)
                        && e.detail().equals("kube-scheduler") && e.millis() > start).mapToLong(Event::millis).max().orElseThrow();
                windows.add(new long[] {start, end});
            }
            // From renewal to the last static pod running again: never two control planes at once.
            AssemblyProtocolTest.assertNoOverlap(windows);

            // The renewed certificates verify against the same (prebaked) CAs and are not due any more.
            for (String cp : cluster.controlPlanes) {
                Path pki = cluster.root(cp).resolve("etc/kubernetes/pki");
                ProcessResult verify = ExternalTool.run(Duration.ofSeconds(30), List.of("openssl", "verify", "-CAfile",
                        pki.resolve("ca.crt").toString(), pki.resolve("apiserver.crt").toString(),
                        pki.resolve("apiserver-kubelet-client.crt").toString()), dir);
                assertThat(verify.exitCode()).as(verify.output()).isZero();
                ProcessResult etcdVerify = ExternalTool.run(Duration.ofSeconds(30), List.of("openssl", "verify", "-CAfile",
                        pki.resolve("etcd/ca.crt").toString(), pki.resolve("etcd/server.crt").toString(),
                        pki.resolve("etcd/peer.crt").toString()), dir);
                assertThat(etcdVerify.exitCode()).as(etcdVerify.output()).isZero();
                assertThat(cluster.root(cp).resolve("var/lib/piimage/manifests-aside")).isEmptyDirectory();
            }

            // Safe to run twice: the same day again renews nothing; and a run cut off while a manifest
            // was aside (power cut on cp2) has it put back by the next run, so kubelet starts the pod again.
            Path aside = cluster.root("cp2").resolve("var/lib/piimage/manifests-aside");
            Files.move(cluster.root("cp2").resolve("etc/kubernetes/manifests/kube-scheduler.yaml"), aside.resolve("kube-scheduler.yaml"));
            Map<String, ProcessResult> again = renewAll(cluster, due);
            again.forEach((cp, result) -> {
                assertThat(result.exitCode()).as(cp + ": " + result.output()).isZero();
                assertThat(result.stderr()).as(cp).contains("nothing due");
            });
            assertThat(again.get("cp2").stderr()).contains("putting back kube-scheduler.yaml");
            assertThat(cluster.root("cp2").resolve("etc/kubernetes/manifests/kube-scheduler.yaml")).exists();
            assertThat(aside).isEmptyDirectory();
            assertThat(cluster.timeline().stream().filter(e -> e.what().equals("renew-start"))).hasSize(3);
            // The etcd cluster went through the restarts intact.
            assertThat(cluster.votingMembers("cp1")).containsExactly("cp1", "cp2", "cp3");
        }
    }

    /** Runs every control plane's renewal at the same time with the stand-in clock at {@code now}. */
    static Map<String, ProcessResult> renewAll(AssemblyProtocolTest.Cluster cluster, Instant now) {
        Map<String, CompletableFuture<ProcessResult>> running = new LinkedHashMap<>();
        for (String cp : cluster.controlPlanes) {
            Path root = cluster.root(cp);
            running.put(cp, CompletableFuture.supplyAsync(() -> cluster.lan.exec(cp, Duration.ofSeconds(150), List.of("env",
                    "PATH=" + cluster.lan.bin + ":" + System.getenv("PATH"), "PIIMAGE_ROOT=" + root,
                    "PA_SHARED=" + cluster.lan.shared, "PIIMAGE_TEST_NOW=@" + now.getEpochSecond(),
                    "bash", root + "/usr/local/sbin/piimage-cert-renew"))));
        }
        Map<String, ProcessResult> results = new LinkedHashMap<>();
        running.forEach((cp, future) -> results.put(cp, future.join()));
        return results;
    }
}
