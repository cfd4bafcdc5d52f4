package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.NodeCard;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dedicated topology for real: two load-balancer namespaces run the rendered haproxy.cfg and
 * keepalived.conf in front of three stand-in apiservers (a small TLS server answering /healthz, not
 * Kubernetes); a client namespace talks to the VIP. Measured: one VIP holder, a dead backend out of
 * rotation with no failed client request, the VIP moving when the active HAProxy dies, no take-back
 * with preempt: false.
 */
class DedicatedFailoverTest {

    static final String VIP = "10.200.99.10";
    static final int PORT = 9000;
    static final String URL = "https://" + VIP + ":" + PORT + "/healthz";

    @TempDir
    Path dir;

    @Test
    void standInApiserversBehindRenderedHaproxyAndKeepalivedFailOverWithinThreeSeconds() throws Exception {
        Path haproxy = ExternalTool.require("haproxy");
        Path planFile = Files.writeString(dir.resolve("plan.yaml"), EndpointConfigsRealToolsTest.plan("dedicated", PORT, false, true));
        Bake.Result result = Bake.builder(planFile).output(dir.resolve("out")).build().run();
        Map<String, NodeCard> cards = new TreeMap<>();
        result.cards().forEach(c -> cards.put(c.node().name(), c));

        try (TestLan lan = new TestLan(dir)) {
            lan.host("lb1", "10.200.99.11");
            lan.host("lb2", "10.200.99.12");
            lan.host("client", "10.200.99.50");
            Map<String, Process> apiservers = new TreeMap<>();
            for (int i = 1; i <= 3; i++) {
                lan.host("cp" + i, "10.200.99.2" + i);
                apiservers.put("cp" + i, RenderedDaemons.startStandInApiserver(lan, "cp" + i, "10.200.99.2" + i));
            }
            Map<String, Path> haproxyConfigs = new TreeMap<>();
            Instant started = Instant.now();
            for (String lb : List.of("lb1", "lb2")) {
                haproxyConfigs.put(lb, RenderedDaemons.startHaproxy(lan, lb, cards.get(lb)));
                RenderedDaemons.startKeepalived(lan, lb, cards.get(lb));
            }

            // 1. Exactly one load balancer holds the VIP, and it stays that way.
            String active = lan.waitForSingleHolder(List.of("lb1", "lb2"), VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] dedicated: VIP on %s %d ms after keepalived started%n", active,
                    Duration.between(started, Instant.now()).toMillis());
            Thread.sleep(2000);
            assertThat(lan.holders(List.of("lb1", "lb2"), VIP)).containsExactly(active);
            String standby = active.equals("lb1") ? "lb2" : "lb1";
            assertThat(lan.in("client", Duration.ofSeconds(10), "curl", "-sk", "--max-time", "3", URL).stdout()).isEqualTo("ok");

            // 2. A dead backend leaves rotation within 3 s, and no client request fails meanwhile.
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            Thread client = new Thread(() -> {
                while (running.get()) {
                    ProcessResult r = lan.in("client", Duration.ofSeconds(10), "curl", "-sk", "--max-time", "5", URL);
                    if (r.exitCode() == 0 && r.stdout().equals("ok")) {
                        ok.incrementAndGet();
                    } else {
                        failures.add("exit " + r.exitCode() + " " + r.output());
                    }
                }
            });
            client.start();
            Thread.sleep(1000);
            Instant killed = Instant.now();
            TestLan.kill(apiservers.get("cp2"));
            Duration down = null;
            while (down == null && Duration.between(killed, Instant.now()).toSeconds() < 10) {
                if (RenderedDaemons.showStat(lan, active).lines().anyMatch(l -> l.startsWith("kube-apiserver,cp2,") && l.contains(",DOWN"))) {
                    down = Duration.between(killed, Instant.now());
                }
                Thread.sleep(100);
            }
            Thread.sleep(2000);
            running.set(false);
            client.join(15_000);
            assertThat(down).as("cp2 marked DOWN").isNotNull();
            System.out.printf("[pe] dedicated: dead backend out of rotation after %d ms; %d client requests, %d failed%n",
                    down.toMillis(), ok.get() + failures.size(), failures.size());
            assertThat(down).isLessThan(Duration.ofSeconds(3));
            assertThat(failures).isEmpty();
            assertThat(ok.get()).isGreaterThan(5);

            // 3. The active HAProxy dies: the VIP moves to the standby within 3 s.
            Instant haproxyKilled = Instant.now();
            TestLan.killPidFile(lan.pidFile(active + "-haproxy"));
            Duration moved = lan.waitUntilHolds(standby, VIP, Duration.ofSeconds(10));
            System.out.printf("[pe] dedicated: VIP moved %s -> %s %d ms after its HAProxy died%n", active, standby, moved.toMillis());
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
            assertThat(lan.holds(active, "eth0", VIP)).isFalse();
            assertThat(lan.in("client", Duration.ofSeconds(10), "curl", "-sk", "--max-time", "3", URL).stdout()).isEqualTo("ok");

            // 4. preempt: false: the recovered load balancer does not take the VIP back.
            RenderedDaemons.restartHaproxy(lan, active, haproxy, haproxyConfigs.get(active));
            Thread.sleep(6000);
            assertThat(lan.holders(List.of("lb1", "lb2"), VIP)).containsExactly(standby);
        }
    }
}
