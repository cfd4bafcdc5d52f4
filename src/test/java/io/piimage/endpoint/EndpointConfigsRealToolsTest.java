package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.NodeCard;
import io.piimage.render.NodeFile;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The endpoint and gateway files of every topology, baked through the real pipeline and checked by
 * the daemons that will read them: haproxy -c, keepalived -t (inside a network namespace that has the
 * node's interface), nft -c, and shellcheck on the scripts.
 */
class EndpointConfigsRealToolsTest {

    @TempDir
    Path dir;

    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz test@example";

    static String plan(String mode, int port, boolean preempt, boolean unicast) {
        StringBuilder yaml = new StringBuilder("""
                apiVersion: piimage/v1
                cluster: {name: pe-test, kubernetesVersion: "1.31"}
                endpoint:
                  vip: 10.200.99.10
                  port: %d
                  loadBalancer: %s
                  vrrp: {preempt: %s, unicast: %s}
                network: {subnet: 10.200.99.0/24, gateway: 10.200.99.1, interface: eth0}
                os: {sshAuthorizedKeys: ["%s"]}
                nodes:
                  - {name: gw, role: gateway, address: 10.200.99.1, interface: lan0, uplink: wan0}
                  - {name: cp1, role: control-plane, address: 10.200.99.21}
                  - {name: cp2, role: control-plane, address: 10.200.99.22}
                  - {name: cp3, role: control-plane, address: 10.200.99.23}
                  - {name: w1, role: worker, address: 10.200.99.31}
                """.formatted(port, mode, preempt, unicast, KEY));
        if (mode.equals("dedicated")) {
            yaml.append("  - {name: lb1, role: load-balancer, address: 10.200.99.11}\n");
            yaml.append("  - {name: lb2, role: load-balancer, address: 10.200.99.12}\n");
        }
        return yaml.toString();
    }

    Bake.Result bake(String yaml) throws Exception {
        Path planFile = Files.writeString(dir.resolve("plan.yaml"), yaml);
        return Bake.builder(planFile).output(dir.resolve("out")).build().run();
    }

    static Optional<NodeFile> file(NodeCard card, String path) {
        return card.nodeFiles().file(path);
    }

    /** Writes a node file where a test can run it; the directories stay root-only writable, as keepalived wants. */
    Path materialize(NodeCard card, String path) throws Exception {
        NodeFile file = file(card, path).orElseThrow();
        Path target = dir.resolve("nodes").resolve(card.node().name() + path);
        Files.createDirectories(target.getParent());
        Files.write(target, file.content());
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(file.mode() == 0755 ? "rwxr-xr-x" : "rw-------"));
        return target;
    }

    @ParameterizedTest(name = "{0} port {1} preempt {2} unicast {3}")
    @CsvSource({"dedicated,9000,false,true", "dedicated,6443,true,false", "stacked,8443,false,true", "stacked,8443,true,false", "vip-only,6443,true,true",
            "vip-only,6443,false,false"})
    void haproxyAndKeepalivedAcceptEveryRenderedConfig(String mode, int port, boolean preempt, boolean unicast) throws Exception {
        Path haproxy = ExternalTool.require("haproxy");
        Path keepalived = ExternalTool.require("keepalived");
        Path ip = ExternalTool.require("ip");
        ExternalTool.requireRoot();
        Bake.Result result = bake(plan(mode, port, preempt, unicast));
        int haproxyNodes = 0;
        int keepalivedNodes = 0;
        for (NodeCard card : result.cards()) {
            boolean holder = result.plan().vipHolders().contains(card.node());
            assertThat(file(card, "/etc/keepalived/keepalived.conf").isPresent()).as(card.node().name()).isEqualTo(holder);
            if (file(card, "/etc/haproxy/haproxy.cfg").isPresent()) {
                haproxyNodes++;
                // Only run-time paths differ from a Pi: no chroot or privileged socket directory here.
                String cfg = file(card, "/etc/haproxy/haproxy.cfg").orElseThrow().text()
                        .replace("chroot /var/lib/haproxy", "")
                        .replace("/run/haproxy/admin.sock", dir.resolve("admin.sock").toString());
                assertThat(cfg).contains("bind *:" + port, "mode tcp", "option httpchk GET /healthz", "check-ssl verify none",
                        "inter 1s fall 2 rise 2", "option redispatch", "timeout tunnel 1h",
                        "monitor-uri /backends-up", "monitor fail if { nbsrv(kube-apiserver) lt 1 }");
                for (var cp : result.plan().controlPlanes()) {
                    assertThat(cfg).contains("server " + cp.name() + " " + cp.address() + ":6443");
                }
                Path cfgFile = Files.writeString(dir.resolve(card.node().name() + "-haproxy.cfg"), cfg);
                ProcessResult check = ExternalTool.run(Duration.ofSeconds(30), List.of(haproxy.toString(), "-c", "-f", cfgFile.toString()), dir);
                assertThat(check.exitCode()).as(card.node().name() + ": " + check.output()).isZero();
            }
            if (holder) {
                keepalivedNodes++;
                NodeFile conf = file(card, "/etc/keepalived/keepalived.conf").orElseThrow();
                assertThat(conf.mode()).isEqualTo(0600);
                assertThat(conf.text()).contains("auth_pass " + Files.readString(result.secretsDir().resolve("vrrp-password")).strip(),
                        "virtual_router_id " + result.plan().endpoint().vrrp().routerId(), "10.200.99.10/24 dev eth0", "advert_int 1");
                assertThat(conf.text().contains("nopreempt")).isEqualTo(!preempt);
                // FAULT semantics: a failing check releases the VIP at once; no weight on the track script.
                assertThat(conf.text()).contains(mode.equals("vip-only") ? "fall 1" : "fall 2").doesNotContainPattern("(?m)^\\s*weight");
                boolean preferred = preempt && result.plan().vipHolders().get(0).equals(card.node());
                assertThat(conf.text()).contains(preferred ? "state MASTER" : "state BACKUP",
                        preferred ? "priority 150" : "priority " + (preempt ? 100 - result.plan().vipHolders().indexOf(card.node()) : 100));
                assertThat(conf.text().contains("unicast_peer")).isEqualTo(unicast);
                Path script = materialize(card, "/etc/keepalived/piimage-check-endpoint");
                Path confFile = dir.resolve(card.node().name() + "-keepalived.conf");
                Files.writeString(confFile, conf.text().replace("/etc/keepalived/piimage-check-endpoint", script.toString()));
                assertThat(keepalivedTestInNamespace(ip, keepalived, confFile, "eth0").exitCode()).isZero();
            }
        }
        assertThat(keepalivedNodes).isEqualTo(result.plan().vipHolders().size());
        assertThat(haproxyNodes).isEqualTo(mode.equals("vip-only") ? 0 : mode.equals("stacked") ? 3 : 2);
    }

    /**
     * One control plane holding the VIP itself (or one load balancer): unicast has no peer to name, and
     * keepalived 2.3 (Debian trixie, so Raspberry Pi OS trixie) fails its config test on unicast keywords
     * without peers ("A unicast keyword has been specified without any unicast peers"), which stopped the
     * rehearsal's control plane at its endpoint phase. Such a node's configuration has none.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"vip-only", "stacked"})
    void aLoneVipHolderGetsNoUnicastKeywordsAndKeepalivedSaysNothingOfUnicast(String mode) throws Exception {
        Path keepalived = ExternalTool.require("keepalived");
        Path ip = ExternalTool.require("ip");
        ExternalTool.requireRoot();
        String yaml = plan(mode, mode.equals("stacked") ? 8443 : 6443, true, true).replaceAll("(?m)^  - \\{name: cp[23],.*\\n", "");
        Bake.Result result = bake(yaml);
        assertThat(result.plan().vipHolders()).hasSize(1);
        NodeCard card = result.cards().stream().filter(c -> c.node().name().equals("cp1")).findFirst().orElseThrow();
        String conf = file(card, "/etc/keepalived/keepalived.conf").orElseThrow().text();
        assertThat(conf).doesNotContain("unicast_peer", "unicast_src_ip").contains("state MASTER");
        Path script = materialize(card, "/etc/keepalived/piimage-check-endpoint");
        Path confFile = Files.writeString(dir.resolve("cp1-keepalived.conf"),
                conf.replace("/etc/keepalived/piimage-check-endpoint", script.toString()));
        assertThat(keepalivedTestInNamespace(ip, keepalived, confFile, "eth0").output()).doesNotContain("unicast");
    }

    /** keepalived -t checks that the interface exists in the current namespace: give it one. */
    ProcessResult keepalivedTestInNamespace(Path ip, Path keepalived, Path conf, String iface) {
        String ns = "pk-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
        try {
            run(ip, "netns", "add", ns);
            run(ip, "link", "add", "v" + ns, "type", "veth", "peer", "name", iface, "netns", ns);
            ProcessResult check = ExternalTool.run(Duration.ofSeconds(30),
                    List.of(ip.toString(), "netns", "exec", ns, keepalived.toString(), "-t", "-e", "-f", conf.toString()), dir);
            assertThat(check.exitCode()).as(conf + ": " + check.output()).isZero();
            return check;
        } finally {
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "link", "del", "v" + ns), dir);
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "del", ns), dir);
        }
    }

    void run(Path tool, String... args) {
        List<String> command = new ArrayList<>(List.of(tool.toString()));
        command.addAll(List.of(args));
        ProcessResult result = ExternalTool.run(Duration.ofSeconds(10), command, dir);
        assertThat(result.exitCode()).as(String.join(" ", command) + ": " + result.output()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"dedicated,9000", "vip-only,6443"})
    void endpointAndGatewayScriptsPassShellcheckAndTheRulesetLoads(String mode, int port) throws Exception {
        Path shellcheck = ExternalTool.require("shellcheck");
        Path nft = ExternalTool.require("nft");
        Bake.Result result = bake(plan(mode, port, false, true));
        List<String> scripts = new ArrayList<>();
        for (NodeCard card : result.cards()) {
            for (String path : List.of("/etc/keepalived/piimage-check-endpoint", "/usr/local/lib/piimage/phases/30-endpoint.sh",
                    "/usr/local/lib/piimage/phases/30-gateway.sh")) {
                if (file(card, path).isPresent()) {
                    scripts.add(materialize(card, path).toString());
                }
            }
        }
        assertThat(scripts).hasSizeGreaterThanOrEqualTo(result.plan().vipHolders().size() * 2 + 1);
        List<String> command = new ArrayList<>(List.of(shellcheck.toString(), "-s", "bash"));
        command.addAll(scripts);
        ProcessResult check = ExternalTool.run(Duration.ofSeconds(60), command, dir);
        assertThat(check.exitCode()).as(check.output()).isZero();

        NodeCard gateway = result.cards().stream().filter(c -> c.node().name().equals("gw")).findFirst().orElseThrow();
        String ruleset = file(gateway, "/etc/nftables.conf").orElseThrow().text();
        assertThat(ruleset).contains("ip saddr 10.200.99.0/24 oifname \"wan0\" masquerade", "iifname \"lan0\" oifname \"wan0\"");
        Path rules = Files.writeString(dir.resolve("nftables.conf"), ruleset);
        ProcessResult nftCheck = ExternalTool.run(Duration.ofSeconds(30), List.of(nft.toString(), "-c", "-f", rules.toString()), dir);
        assertThat(nftCheck.exitCode()).as(nftCheck.output()).isZero();
        // Installed by phase 15-packages (retried), not by cloud-init's one-shot package step.
        assertThat(file(gateway, "/etc/piimage/packages").orElseThrow().text()).contains("nftables\n", "dnsmasq\n");
        assertThat(gateway.bootFiles().file("user-data").orElseThrow().text()).doesNotContainPattern("(?m)^(packages|package_update|package_upgrade):");
    }

    /**
     * The real dnsmasq with the gateway's rendered configuration, in a namespace where the cluster-side
     * interface does not exist yet (a USB adapter that appears late): it must start anyway, and answer
     * on the cluster address once the interface comes up, never on the uplink.
     */
    @Test
    void dnsmasqStartsBeforeTheClusterInterfaceAndBindsItWhenItAppears() throws Exception {
        Path dnsmasq = ExternalTool.require("dnsmasq");
        Path ip = ExternalTool.require("ip");
        Path ss = ExternalTool.require("ss");
        ExternalTool.requireRoot();
        Bake.Result result = bake(plan("dedicated", 9000, false, true));
        NodeCard gateway = result.cards().stream().filter(c -> c.node().name().equals("gw")).findFirst().orElseThrow();
        Path conf = Files.writeString(dir.resolve("dnsmasq.conf"), file(gateway, "/etc/dnsmasq.d/piimage.conf").orElseThrow().text());
        ProcessResult test = ExternalTool.run(Duration.ofSeconds(30), List.of(dnsmasq.toString(), "--test", "-C", conf.toString()), dir);
        assertThat(test.exitCode()).as(test.output()).isZero();

        String ns = "pkd-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
        Process daemon = null;
        try {
            run(ip, "netns", "add", ns);
            run(ip, "-n", ns, "link", "set", "lo", "up");
            run(ip, "link", "add", "w" + ns, "type", "veth", "peer", "name", "wan0", "netns", ns);
            run(ip, "-n", ns, "address", "add", "10.200.98.1/24", "dev", "wan0");
            run(ip, "-n", ns, "link", "set", "wan0", "up");
            daemon = new ProcessBuilder(ip.toString(), "netns", "exec", ns, dnsmasq.toString(), "--keep-in-foreground",
                    "--conf-file=" + conf, "--pid-file=", "--user=root", "--log-facility=-", "--no-resolv", "--server=10.200.98.2")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile()).start();
            Thread.sleep(1500);
            assertThat(daemon.isAlive()).as("dnsmasq without lan0: " + Files.readString(dir.resolve("dnsmasq.log"))).isTrue();

            run(ip, "link", "add", "c" + ns, "type", "veth", "peer", "name", "lan0", "netns", ns);
            run(ip, "-n", ns, "address", "add", "10.200.99.1/24", "dev", "lan0");
            run(ip, "-n", ns, "link", "set", "lan0", "up");
            String listening = "";
            for (int i = 0; i < 50 && !listening.contains("10.200.99.1:53"); i++) {
                Thread.sleep(200);
                listening = ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "exec", ns, ss.toString(), "-lnu"), dir).stdout();
            }
            assertThat(listening).as(Files.readString(dir.resolve("dnsmasq.log"))).contains("10.200.99.1:53").doesNotContain("10.200.98.1:53");
        } finally {
            if (daemon != null) {
                daemon.destroy();
                daemon.waitFor();
            }
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "link", "del", "w" + ns), dir);
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "link", "del", "c" + ns), dir);
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "del", ns), dir);
        }
    }
}
