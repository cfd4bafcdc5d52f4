package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.NodeCard;
import io.piimage.testing.ExternalTool;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dedicated topology for real: two load-balancer namespaces run the rendered haproxy.cfg and
 * keepalived.conf in front of three stand-in apiservers (a small TLS server answering /healthz, not
 * Kubernetes); a client namespace talks to the VIP. Measured: one VIP holder, a dead backend out of
 * rotation losing no more than the request in flight, the VIP moving when the active HAProxy dies; with
 * preempt: false no take-back, with preempt: true the preferred load balancer takes the VIP back.
 */
class DedicatedFailoverTest {

    static final String VIP = "10.200.99.10";
    static final int PORT = 9000;
    static final String URL = "https://" + VIP + ":" + PORT + "/healthz";
    static final List<String> LOAD_BALANCERS = List.of("lb1", "lb2");

    /** Kept after a failure: the daemons' logs are in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    /** lb1 and lb2 with the rendered HAProxy and keepalived, and a client; returns each HAProxy's config. */
    static Map<String, Path> loadBalancers(TestLan lan, Map<String, NodeCard> cards) throws Exception {
        lan.host("lb1", "10.200.99.11");
        lan.host("lb2", "10.200.99.12");
        lan.host("client", "10.200.99.50");
        Map<String, Path> haproxyConfigs = new TreeMap<>();
        for (String lb : LOAD_BALANCERS) {
            haproxyConfigs.put(lb, RenderedDaemons.startHaproxy(lan, lb, cards.get(lb)));
            RenderedDaemons.startKeepalived(lan, lb, cards.get(lb));
        }
        return haproxyConfigs;
    }

    static Process controlPlane(TestLan lan, int i) throws Exception {
        lan.host("cp" + i, "10.200.99.2" + i);
        return RenderedDaemons.startStandInApiserver(lan, "cp" + i, "10.200.99.2" + i);
    }

    static String curlVip(TestLan lan) {
        return lan.in("client", Duration.ofSeconds(10), "curl", "-sk", "--max-time", "3", URL).stdout();
    }

    @Test
    void standInApiserversBehindRenderedHaproxyAndKeepalivedFailOverWithinThreeSeconds() throws Exception {
        Path haproxy = ExternalTool.require("haproxy");
        Map<String, NodeCard> cards = RenderedDaemons.bake(dir, "dedicated", PORT, false);

        try (TestLan lan = new TestLan(dir)) {
            Map<String, Process> apiservers = new TreeMap<>();
            for (int i = 1; i <= 3; i++) {
                apiservers.put("cp" + i, controlPlane(lan, i));
            }
            Instant started = Instant.now();
            Map<String, Path> haproxyConfigs = loadBalancers(lan, cards);

            // 1. Exactly one load balancer holds the VIP, and it stays that way.
            String active = lan.waitForSingleHolder(LOAD_BALANCERS, VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] dedicated: VIP on %s %d ms after keepalived started%n", active,
                    Duration.between(started, Instant.now()).toMillis());
            lan.assertHeldSteadily(active, LOAD_BALANCERS, VIP, Duration.ofSeconds(2));
            String standby = active.equals("lb1") ? "lb2" : "lb1";
            assertThat(curlVip(lan)).isEqualTo("ok");

            // 2. A dead backend leaves rotation within 3 s; no client request fails meanwhile but the one
            //    the backend was in the middle of when it was killed.
            Duration down;
            Instant killed;
            ClientLoop client = new ClientLoop(lan, "client", URL);
            try (client) {
                Thread.sleep(1000);
                killed = Instant.now();
                TestLan.kill(apiservers.get("cp2"));
                down = null;
                while (down == null && Duration.between(killed, Instant.now()).toSeconds() < 10) {
                    if (RenderedDaemons.showStat(lan, active).lines().anyMatch(l -> l.startsWith("kube-apiserver,cp2,") && l.contains(",DOWN"))) {
                        down = Duration.between(killed, Instant.now());
                    }
                    Thread.sleep(100);
                }
                Thread.sleep(2000);
            }
            assertThat(down).as("cp2 marked DOWN").isNotNull();
            System.out.printf("[pe] dedicated: dead backend out of rotation after %d ms; %s%n", down.toMillis(), client.summary());
            assertThat(down).isLessThan(Duration.ofSeconds(3));
            ClientLoop.assertAtMostTheRequestInFlightFailed(client.failures(), killed);
            assertThat(client.ok()).isGreaterThan(5);

            // 3. The active HAProxy dies: the VIP moves to the standby within 3 s.
            TestLan.killPidFile(lan.pidFile(active + "-haproxy"));
            Duration moved = lan.waitUntilHolds(standby, VIP, Duration.ofSeconds(10));
            System.out.printf("[pe] dedicated: VIP moved %s -> %s %d ms after its HAProxy died%n", active, standby, moved.toMillis());
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
            assertThat(lan.holds(active, "eth0", VIP)).isFalse();
            assertThat(curlVip(lan)).isEqualTo("ok");

            // 4. preempt: false: the recovered load balancer does not take the VIP back.
            RenderedDaemons.restartHaproxy(lan, active, haproxy, haproxyConfigs.get(active));
            lan.assertHeldSteadily(standby, LOAD_BALANCERS, VIP, Duration.ofSeconds(6));
        }
    }

    /**
     * preempt: true. Bootstrap first: no apiserver healthy (cp1 still in kubeadm init, cp2 and cp3 not
     * powered on, their addresses silent), yet lb1, the preferred holder, keeps the VIP. Then lb1's
     * HAProxy dies: FAULT moves the VIP to lb2 at once; HAProxy back: lb1 takes the VIP back.
     */
    @Test
    void preemptMovesTheVipAtOnceAndThePreferredLoadBalancerTakesItBack() throws Exception {
        Path haproxy = ExternalTool.require("haproxy");
        Map<String, NodeCard> cards = RenderedDaemons.bake(dir, "dedicated", PORT, true);

        try (TestLan lan = new TestLan(dir)) {
            lan.host("cp1", "10.200.99.21");
            Instant started = Instant.now();
            Map<String, Path> haproxyConfigs = loadBalancers(lan, cards);

            // 1. Bootstrap: lb1 (state MASTER, priority 150) holds the VIP while no apiserver is healthy.
            lan.waitUntilHolds("lb1", VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] dedicated preempt: VIP on lb1 %d ms after keepalived started, no apiserver healthy%n",
                    Duration.between(started, Instant.now()).toMillis());
            lan.assertHeldSteadily("lb1", LOAD_BALANCERS, VIP, Duration.ofSeconds(6));

            // 2. The apiservers come up; lb1 keeps the VIP and it forwards.
            RenderedDaemons.startStandInApiserver(lan, "cp1", "10.200.99.21");
            controlPlane(lan, 2);
            controlPlane(lan, 3);
            Instant waiting = Instant.now();
            while (!curlVip(lan).equals("ok")) {
                assertThat(Duration.between(waiting, Instant.now())).as("the VIP answers").isLessThan(Duration.ofSeconds(15));
                Thread.sleep(200);
            }
            lan.assertHeldSteadily("lb1", LOAD_BALANCERS, VIP, Duration.ofSeconds(2));

            ClientLoop client = new ClientLoop(lan, "client", URL);
            Duration moved;
            Duration takenBack;
            Instant restarting;
            try (client) {
                Thread.sleep(1000);
                // 3. lb1's HAProxy dies: FAULT, the VIP moves to lb2 within 3 s.
                TestLan.killPidFile(lan.pidFile("lb1-haproxy"));
                moved = lan.waitUntilHolds("lb2", VIP, Duration.ofSeconds(10));
                System.out.printf("[pe] dedicated preempt: VIP moved lb1 -> lb2 %d ms after lb1's HAProxy died%n", moved.toMillis());
                assertThat(lan.holds("lb1", "eth0", VIP)).isFalse();
                Thread.sleep(2000);

                // 4. lb1's HAProxy is back: lb1 takes the VIP back, and lb2 lets it go.
                restarting = Instant.now();
                RenderedDaemons.restartHaproxy(lan, "lb1", haproxy, haproxyConfigs.get("lb1"));
                takenBack = lan.waitUntilHolds("lb1", VIP, Duration.ofSeconds(15));
                System.out.printf("[pe] dedicated preempt: VIP back on lb1 %d ms after its HAProxy restarted%n", takenBack.toMillis());
                lan.waitForSingleHolder(LOAD_BALANCERS, VIP, Duration.ofSeconds(3));
                lan.assertHeldSteadily("lb1", LOAD_BALANCERS, VIP, Duration.ofSeconds(3));
            }
            // By when each failed request began: one cut at the take-back may end only when curl gives up,
            // 5 s later (its packets lost while the client still sent them to lb2), as one run showed.
            List<ClientLoop.Failure> all = client.failures();
            List<ClientLoop.Failure> whileMoving = ClientLoop.startedBefore(all, restarting, true);
            List<ClientLoop.Failure> takenBackFailures = ClientLoop.startedBefore(all, restarting, false);
            int whileTakenBack = takenBackFailures.size();
            System.out.printf("[pe] dedicated preempt: client: %s; %d failed while the VIP moved, %d while lb1 took it back%n",
                    client.summary(), whileMoving.size(), whileTakenBack);
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
            assertThat(ClientLoop.span(whileMoving)).as("requests failed only while the VIP moved").isLessThan(Duration.ofSeconds(3));
            // Both load balancers' HAProxy forward while lb1 takes the VIP back: only requests at the
            // switch fail, such as the one in flight, whose packets then reach lb1, which knows no such
            // connection. Seen: 0 or 1 in most runs, 2 in one CI run; all within one moment.
            assertThat(whileTakenBack).isLessThanOrEqualTo(3);
            assertThat(ClientLoop.span(takenBackFailures)).as("failures at the take-back, %s", takenBackFailures)
                    .isLessThan(Duration.ofSeconds(1));
            assertThat(takenBack).isLessThan(Duration.ofSeconds(8));
            assertThat(curlVip(lan)).isEqualTo("ok");
        }
    }
}
