package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.NodeCard;
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
 * stacked for real: three control-plane namespaces each run a stand-in apiserver (a TLS server
 * answering /healthz, not Kubernetes) on :6443 and the rendered HAProxy (on :8443) and keepalived in
 * front of all three; a client namespace talks to the VIP. The VIP holder's apiserver dies: its
 * HAProxy forwards to the others, no request fails but the one in flight at the kill, and the VIP stays. Then the holder's
 * HAProxy dies: the VIP moves within 3 s and the clients get answers again.
 */
class StackedFailoverTest {

    static final String VIP = "10.200.99.10";
    static final int PORT = 8443;
    static final String URL = "https://" + VIP + ":" + PORT + "/healthz";
    static final List<String> CONTROL_PLANES = List.of("cp1", "cp2", "cp3");

    /** Kept after a failure: the daemons' logs are in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void controlPlanesRunningHaproxyAndKeepalivedKeepTheEndpointUpWhenAnApiserverOrAnHaproxyDies() throws Exception {
        Map<String, NodeCard> cards = RenderedDaemons.bake(dir, "stacked", PORT, false);

        try (TestLan lan = new TestLan(dir)) {
            lan.host("client", "10.200.99.50");
            Map<String, Process> apiservers = new TreeMap<>();
            Instant started = Instant.now();
            for (String cp : CONTROL_PLANES) {
                String address = VipOnlyFailoverTest.address(cp);
                lan.host(cp, address);
                apiservers.put(cp, RenderedDaemons.startStandInApiserver(lan, cp, address));
                RenderedDaemons.startHaproxy(lan, cp, cards.get(cp));
                RenderedDaemons.startKeepalived(lan, cp, cards.get(cp));
            }
            String active = lan.waitForSingleHolder(CONTROL_PLANES, VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] stacked: VIP on %s %d ms after keepalived started%n", active,
                    Duration.between(started, Instant.now()).toMillis());
            lan.assertHeldSteadily(active, CONTROL_PLANES, VIP, Duration.ofSeconds(2));

            ClientLoop client = new ClientLoop(lan, "client", URL);
            Duration moved;
            List<ClientLoop.Failure> whileApiserverDied;
            Instant killed;
            try (client) {
                Thread.sleep(1000);
                // 1. The holder's own apiserver dies: its HAProxy sends every request to the other two.
                killed = Instant.now();
                TestLan.kill(apiservers.get(active));
                while (RenderedDaemons.showStat(lan, active).lines()
                        .noneMatch(l -> l.startsWith("kube-apiserver," + active + ",") && l.contains(",DOWN"))) {
                    assertThat(Duration.between(killed, Instant.now())).as(active + " marked DOWN").isLessThan(Duration.ofSeconds(10));
                    Thread.sleep(100);
                }
                System.out.printf("[pe] stacked: %s's dead apiserver out of rotation after %d ms%n", active,
                        Duration.between(killed, Instant.now()).toMillis());
                lan.assertHeldSteadily(active, CONTROL_PLANES, VIP, Duration.ofSeconds(3));
                whileApiserverDied = client.failures();

                // 2. The holder's HAProxy dies too: the VIP moves to another control plane.
                TestLan.killPidFile(lan.pidFile(active + "-haproxy"));
                moved = lan.waitUntilMovedFrom(active, CONTROL_PLANES, VIP, Duration.ofSeconds(10));
                System.out.printf("[pe] stacked: VIP moved from %s to %s %d ms after its HAProxy died%n", active,
                        lan.holders(CONTROL_PLANES, VIP), moved.toMillis());
                Thread.sleep(2000);
            }
            System.out.printf("[pe] stacked: client: %s; %d failed while an apiserver died%n", client.summary(), whileApiserverDied.size());
            ClientLoop.assertAtMostTheRequestInFlightFailed(whileApiserverDied, killed);
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
            List<ClientLoop.Failure> whileMoving = client.failures().subList(whileApiserverDied.size(), client.failures().size());
            assertThat(ClientLoop.span(whileMoving)).as("requests failed only while the VIP moved").isLessThan(Duration.ofSeconds(3));
            assertThat(lan.in("client", Duration.ofSeconds(10), "curl", "-sk", "--max-time", "3", URL).stdout()).isEqualTo("ok");
        }
    }
}
