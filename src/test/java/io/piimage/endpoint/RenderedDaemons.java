package io.piimage.endpoint;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.NodeCard;
import io.piimage.pki.Certificates;
import io.piimage.pki.KeyAlgorithm;
import io.piimage.pki.KeyAndCertificate;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Starts the daemons of a baked node inside a {@link TestLan} host with the RENDERED configuration:
 * only file paths differ from a Pi (run directory instead of /etc and /run, no chroot).
 */
final class RenderedDaemons {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final KeyAndCertificate STAND_IN_CA =
            Certificates.newCertificateAuthority("stand-in-ca", KeyAlgorithm.ECDSA_P256, Instant.now(), RANDOM);

    private RenderedDaemons() {
    }

    /** Bakes {@link EndpointConfigsRealToolsTest#plan} through the real pipeline; the cards by node name. */
    static Map<String, NodeCard> bake(Path dir, String mode, int port, boolean preempt) throws Exception {
        Path planFile = Files.writeString(dir.resolve("plan.yaml"), EndpointConfigsRealToolsTest.plan(mode, port, preempt, true));
        Map<String, NodeCard> cards = new TreeMap<>();
        Bake.builder(planFile).output(dir.resolve("out")).build().run().cards().forEach(c -> cards.put(c.node().name(), c));
        return cards;
    }

    static String text(NodeCard card, String path) {
        return card.nodeFiles().file(path).orElseThrow(() -> new AssertionError(card.node().name() + " has no " + path)).text();
    }

    /** A stand-in apiserver (TLS, /healthz 200; not Kubernetes) on the host's :6443. */
    static Process startStandInApiserver(TestLan lan, String host, String address) throws IOException {
        ExternalTool.require("python3");
        KeyAndCertificate serving = Certificates.newServingCertificate(STAND_IN_CA, host, List.of(host), List.of(address),
                KeyAlgorithm.ECDSA_P256, Instant.now(), RANDOM);
        Path crt = Files.writeString(lan.runDir.resolve(host + "-apiserver.crt"), serving.certificatePem());
        Path key = Files.writeString(lan.runDir.resolve(host + "-apiserver.key"), serving.privateKeyPem());
        Path standIn = Project.root().resolve("src/test/standins/apiserver-stand-in.py");
        return lan.start(host, "apiserver-stand-in", List.of("python3", standIn.toString(), "0.0.0.0", "6443", crt.toString(), key.toString()));
    }

    /** The node's haproxy.cfg with the admin socket in the run directory; returns the config path. */
    static Path startHaproxy(TestLan lan, String host, NodeCard card) throws IOException {
        Path haproxy = ExternalTool.require("haproxy");
        String cfg = text(card, "/etc/haproxy/haproxy.cfg")
                .replace("/run/haproxy/", runPrefix(lan, host))
                .replace("chroot /var/lib/haproxy", "");
        Path cfgFile = Files.writeString(lan.runDir.resolve(host + "-haproxy.cfg"), cfg);
        restartHaproxy(lan, host, haproxy, cfgFile);
        return cfgFile;
    }

    static void restartHaproxy(TestLan lan, String host, Path haproxy, Path cfgFile) {
        lan.sh(lan.ip.toString(), "netns", "exec", lan.ns(host), haproxy.toString(), "-D", "-f", cfgFile.toString(),
                "-p", lan.pidFile(host + "-haproxy").toString());
    }

    /** Where /run/haproxy/ files (admin and monitor sockets) of {@code host} go. */
    static String runPrefix(TestLan lan, String host) {
        return lan.runDir.resolve(host + "-").toString();
    }

    static Path adminSocket(TestLan lan, String host) {
        return lan.runDir.resolve(host + "-admin.sock");
    }

    /** keepalived with the node's keepalived.conf and check script; only their paths change. */
    static void startKeepalived(TestLan lan, String host, NodeCard card) throws IOException {
        Path keepalived = ExternalTool.require("keepalived");
        ExternalTool.require("curl");
        lan.sh(lan.ip.toString(), "netns", "exec", lan.ns(host), "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1");
        Path check = lan.runDir.resolve(host + "-check");
        Files.writeString(check, text(card, "/etc/keepalived/piimage-check-endpoint").replace("/run/haproxy/", runPrefix(lan, host)));
        Files.setPosixFilePermissions(check, PosixFilePermissions.fromString("rwxr-xr-x"));
        String conf = text(card, "/etc/keepalived/keepalived.conf").replace("/etc/keepalived/piimage-check-endpoint", check.toString());
        Path confFile = Files.writeString(lan.runDir.resolve(host + "-keepalived.conf"), conf);
        Files.setPosixFilePermissions(confFile, PosixFilePermissions.fromString("rw-------"));
        lan.start(host, "keepalived", List.of(keepalived.toString(), "-n", "-l", "-D", "-P", "-f", confFile.toString(),
                "-p", lan.runDir.resolve(host + "-keepalived.pid").toString(), "-r", lan.runDir.resolve(host + "-vrrp.pid").toString()));
    }

    /** HAProxy's "show stat" through its admin socket. */
    static String showStat(TestLan lan, String host) {
        return ExternalTool.run(java.time.Duration.ofSeconds(5), List.of("python3", "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'show stat\\n');"
                        + " print(b''.join(iter(lambda: s.recv(65536), b'')).decode())",
                adminSocket(lan, host).toString()), lan.logs).stdout();
    }
}
