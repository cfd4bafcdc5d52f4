package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.NodeCard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
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

    @TempDir
    Path dir;

    @Test
    void renderedKeepalivedHoldsTheVipDuringBootstrapAndFollowsHealthyStandInApiservers() throws Exception {
        Path planFile = Files.writeString(dir.resolve("plan.yaml"), EndpointConfigsRealToolsTest.plan("vip-only", 6443, false, true));
        Bake.Result result = Bake.builder(planFile).output(dir.resolve("out")).build().run();
        Map<String, NodeCard> cards = new TreeMap<>();
        result.cards().forEach(c -> cards.put(c.node().name(), c));

        try (TestLan lan = new TestLan(dir)) {
            for (int i = 1; i <= 3; i++) {
                lan.host("cp" + i, "10.200.99.2" + i);
            }
            Instant started = Instant.now();
            for (String cp : CONTROL_PLANES) {
                RenderedDaemons.startKeepalived(lan, cp, cards.get(cp));
            }

            // Bootstrap: no apiserver anywhere, yet exactly one control plane holds the VIP.
            String first = lan.waitForSingleHolder(CONTROL_PLANES, VIP, Duration.ofSeconds(20));
            System.out.printf("[pe] vip-only: no apiserver healthy, VIP on %s %d ms after keepalived started%n", first,
                    Duration.between(started, Instant.now()).toMillis());
            Thread.sleep(3000);
            assertThat(lan.holders(CONTROL_PLANES, VIP)).containsExactly(first);

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
            Thread.sleep(4000);
            assertThat(lan.holders(CONTROL_PLANES, VIP)).containsExactly(healthy);
            Instant killed = Instant.now();
            TestLan.kill(apiservers.get(healthy));
            String next = null;
            while (next == null && Duration.between(killed, Instant.now()).toSeconds() < 10) {
                List<String> holders = lan.holders(CONTROL_PLANES, VIP);
                if (holders.size() == 1 && !holders.get(0).equals(healthy)) {
                    next = holders.get(0);
                }
                Thread.sleep(50);
            }
            assertThat(next).as("the VIP left " + healthy).isNotNull();
            Duration moved = Duration.between(killed, Instant.now());
            System.out.printf("[pe] vip-only: VIP moved %s -> %s %d ms after its apiserver died%n", healthy, next, moved.toMillis());
            assertThat(moved).isLessThan(Duration.ofSeconds(3));
        }
    }

    static String address(String cp) {
        return "10.200.99.2" + cp.substring(2);
    }
}
