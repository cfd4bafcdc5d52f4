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
 * vip-only for real: three control-plane namespaces run the rendered keepalived.conf and check script
 * next to stand-in apiservers (a TLS server answering /healthz, not Kubernetes).
 * Bootstrap: with no apiserver healthy anywhere (kubeadm init still running), one node must still
 * hold the VIP, because kubeadm reaches its apiserver through it; once an apiserver is healthy the VIP
 * must go there; and when the apiserver under the VIP dies, the VIP moves within 3 s.
 */
class VipOnlyFailoverTest {

    static final String VIP = "10.200.99.10";
    static final List<String> CONTROL_PLANES = List.of("cp1", "cp2", "cp3");

    /** Kept after a failure: the daemons' logs are in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void renderedKeepalivedHoldsTheVipDuringBootstrapAndFollowsHealthyStandInApiservers() throws Exception {
        Map<String, NodeCard> cards = RenderedDaemons.bake(dir, "vip-only", 6443, false);

        try (TestLan lan = new TestLan(dir)) {
            // Bootstrap: cp1 runs kubeadm init (no apiserver answers yet); cp2 and cp3 are not powered on,
            // so their addresses are silent. cp1 must hold the VIP anyway.
            lan.host("cp1", address("cp1"));
            Instant started = Instant.now();
            RenderedDaemons.startKeepalived(lan, "cp1", cards.get("cp1"));
            Duration up = lan.waitUntilHolds("cp1", VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] vip-only: peers silent, no apiserver healthy, VIP on cp1 %d ms after keepalived started%n",
                    Duration.between(started, Instant.now()).toMillis());
            lan.assertHeldSteadily("cp1", CONTROL_PLANES.subList(0, 1), VIP, Duration.ofSeconds(6));

            // cp2 and cp3 boot; still no apiserver anywhere: exactly one control plane holds the VIP.
            for (String cp : CONTROL_PLANES.subList(1, 3)) {
                lan.host(cp, address(cp));
                RenderedDaemons.startKeepalived(lan, cp, cards.get(cp));
            }
            String first = lan.waitForSingleHolder(CONTROL_PLANES, VIP, Duration.ofSeconds(20));
            lan.assertHeldSteadily(first, CONTROL_PLANES, VIP, Duration.ofSeconds(3));

            // The first apiserver comes up on another node: the VIP goes to it.
            String healthy = first.equals("cp1") ? "cp2" : "cp1";
            Map<String, Process> apiservers = new TreeMap<>();
            apiservers.put(healthy, RenderedDaemons.startStandInApiserver(lan, healthy, address(healthy)));
            Duration toHealthy = lan.waitUntilHolds(healthy, VIP, Duration.ofSeconds(15));
            System.out.printf("[pe] vip-only: VIP moved %s -> %s (first healthy apiserver) after %d ms%n", first, healthy, toHealthy.toMillis());
            assertThat(lan.holders(CONTROL_PLANES, VIP)).containsExactly(healthy);

            // Every apiserver up; then the one under the VIP dies: the VIP moves within 3 s.
            for (String cp : CONTROL_PLANES) {
                if (!apiservers.containsKey(cp)) {
                    apiservers.put(cp, RenderedDaemons.startStandInApiserver(lan, cp, address(cp)));
                }
            }
            Thread.sleep(2000);
            lan.assertHeldSteadily(healthy, CONTROL_PLANES, VIP, Duration.ofSeconds(2));
            TestLan.kill(apiservers.get(healthy));
            Duration moved = lan.waitUntilMovedFrom(healthy, CONTROL_PLANES, VIP, Duration.ofSeconds(10));
            System.out.printf("[pe] vip-only: VIP moved from %s to %s %d ms after its apiserver died%n", healthy,
                    lan.holders(CONTROL_PLANES, VIP), moved.toMillis());
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
        }
    }

    static String address(String cp) {
        return "10.200.99.2" + cp.substring(2);
    }
}
