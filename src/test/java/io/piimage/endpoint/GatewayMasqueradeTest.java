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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's rendered nftables ruleset loaded in a namespace between the cluster LAN and an
 * "upstream" namespace standing in for the home LAN: a node reaches the upstream only masqueraded
 * behind the gateway's uplink address (the upstream has no route back to the cluster subnet).
 */
class GatewayMasqueradeTest {

    @TempDir
    Path dir;

    static final String WHO_AM_I = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = self.client_address[0].encode()
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args): pass
            http.server.HTTPServer((sys.argv[1], 8080), H).serve_forever()
            """;

    @Test
    void aNodeReachesTheUplinkSideMasqueradedBehindTheGateway() throws Exception {
        Path nft = ExternalTool.require("nft");
        ExternalTool.require("python3");
        ExternalTool.require("curl");
        Path planFile = Files.writeString(dir.resolve("plan.yaml"), EndpointConfigsRealToolsTest.plan("vip-only", 6443, false, true));
        Bake.Result result = Bake.builder(planFile).output(dir.resolve("out")).build().run();
        NodeCard gateway = result.cards().stream().filter(c -> c.node().name().equals("gw")).findFirst().orElseThrow();

        try (TestLan lan = new TestLan(dir)) {
            lan.host("gw", "10.200.99.1", "lan0");
            lan.host("node", "10.200.99.21");
            lan.namespace("upstream");
            lan.sh(lan.ip.toString(), "-n", lan.ns("upstream"), "link", "set", "lo", "up");
            // The home-LAN side: a direct link gw:wan0 <-> upstream:eth0.
            lan.sh(lan.ip.toString(), "link", "add", "u" + lan.id, "type", "veth", "peer", "name", "wan0", "netns", lan.ns("gw"));
            lan.sh(lan.ip.toString(), "link", "set", "u" + lan.id, "netns", lan.ns("upstream"));
            lan.sh(lan.ip.toString(), "-n", lan.ns("upstream"), "link", "set", "u" + lan.id, "name", "eth0");
            lan.sh(lan.ip.toString(), "-n", lan.ns("upstream"), "addr", "add", "10.200.98.2/24", "dev", "eth0");
            lan.sh(lan.ip.toString(), "-n", lan.ns("upstream"), "link", "set", "eth0", "up");
            lan.sh(lan.ip.toString(), "-n", lan.ns("gw"), "addr", "add", "10.200.98.1/24", "dev", "wan0");
            lan.sh(lan.ip.toString(), "-n", lan.ns("gw"), "link", "set", "wan0", "up");
            lan.sh(lan.ip.toString(), "-n", lan.ns("node"), "route", "add", "default", "via", "10.200.99.1");
            lan.sh(lan.ip.toString(), "netns", "exec", lan.ns("gw"), "sysctl", "-qw", "net.ipv4.ip_forward=1");
            Path server = Files.writeString(dir.resolve("who-am-i.py"), WHO_AM_I);
            lan.start("upstream", "who-am-i", List.of("python3", server.toString(), "10.200.98.2"));

            // Without the ruleset the upstream cannot answer: it has no route to the cluster subnet.
            waitForServer(lan);
            ProcessResult unmasqueraded = lan.in("node", Duration.ofSeconds(10), "curl", "-s", "--max-time", "2", "http://10.200.98.2:8080/");
            assertThat(unmasqueraded.exitCode()).as("no NAT, no answer").isNotZero();

            Path rules = Files.write(dir.resolve("nftables.conf"), gateway.nodeFiles().file("/etc/nftables.conf").orElseThrow().content());
            lan.sh(lan.ip.toString(), "netns", "exec", lan.ns("gw"), nft.toString(), "-f", rules.toString());
            ProcessResult masqueraded = lan.in("node", Duration.ofSeconds(10), "curl", "-s", "--max-time", "3", "http://10.200.98.2:8080/");
            assertThat(masqueraded.exitCode()).as(masqueraded.output()).isZero();
            assertThat(masqueraded.stdout()).as("the upstream sees the gateway's uplink address").isEqualTo("10.200.98.1");

            // The home LAN reaches the cluster subnet through the gateway (the operator's kubectl to the VIP).
            lan.sh(lan.ip.toString(), "-n", lan.ns("upstream"), "route", "add", "10.200.99.0/24", "via", "10.200.98.1");
            lan.start("node", "who-am-i", List.of("python3", server.toString(), "10.200.99.21"));
            ProcessResult inbound = null;
            for (int i = 0; i < 50 && (inbound == null || inbound.exitCode() != 0); i++) {
                Thread.sleep(100);
                inbound = lan.in("upstream", Duration.ofSeconds(5), "curl", "-s", "--max-time", "1", "http://10.200.99.21:8080/");
            }
            assertThat(inbound.exitCode()).as("home LAN -> cluster: " + inbound.output()).isZero();
            assertThat(inbound.stdout()).as("not masqueraded inbound").isEqualTo("10.200.98.2");
        }
    }

    static void waitForServer(TestLan lan) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).toSeconds() < 10) {
            if (lan.in("upstream", Duration.ofSeconds(5), "curl", "-s", "--max-time", "1", "http://10.200.98.2:8080/").exitCode() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the upstream stand-in server did not start");
    }
}
