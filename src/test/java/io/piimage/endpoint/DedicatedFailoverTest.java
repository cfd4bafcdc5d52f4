package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.NodeCard;
import io.piimage.pki.Certificates;
import io.piimage.pki.KeyAlgorithm;
import io.piimage.pki.KeyAndCertificate;
import io.piimage.pki.Pem;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dedicated topology for real: two load-balancer namespaces run the RENDERED haproxy.cfg and
 * keepalived.conf (only file paths changed), in front of three stand-in apiservers (a small TLS server
 * answering /healthz, not Kubernetes), on a bridge of veth pairs; a client namespace talks to the VIP.
 * Measured: VIP election, failover when the active HAProxy dies, a dead backend leaving rotation with
 * no failed client request, and no take-back with preempt: false.
 */
class DedicatedFailoverTest {

    static final String VIP = "10.200.99.10";
    static final int PORT = 9000;

    @TempDir
    Path dir;

    final String id = HexFormat.of().formatHex(new SecureRandom().generateSeed(2));
    final List<String> namespaces = new ArrayList<>();
    final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    Path ip;
    Path runDir;

    @AfterEach
    void tearDown() throws IOException {
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        for (String ns : List.of("lb1", "lb2")) {
            killPidFile(runDir == null ? null : runDir.resolve(ns + "-haproxy.pid"));
        }
        for (String ns : namespaces) {
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "del", ns), null);
        }
        if (runDir != null) {
            ExternalTool.run(Duration.ofSeconds(10), List.of("rm", "-rf", runDir.toString()), null);
        }
    }

    void killPidFile(Path pidFile) throws IOException {
        if (pidFile != null && Files.exists(pidFile)) {
            for (String pid : Files.readString(pidFile).split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    String ns(String name) {
        return "pe" + id + "-" + name;
    }

    void sh(String... command) {
        ProcessResult result = ExternalTool.run(Duration.ofSeconds(20), List.of(command), dir);
        assertThat(result.exitCode()).as(String.join(" ", command) + ": " + result.output()).isZero();
    }

    /** One host on the test LAN: a namespace whose eth0 is plugged into the bridge. */
    void host(String name, String address) {
        String ns = ns(name);
        sh(ip.toString(), "netns", "add", ns);
        namespaces.add(ns);
        String peer = "v" + id + name;
        sh(ip.toString(), "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh(ip.toString(), "link", "set", peer, "netns", ns("sw"));
        sh(ip.toString(), "-n", ns("sw"), "link", "set", peer, "master", "br0", "up");
        sh(ip.toString(), "-n", ns, "link", "set", "lo", "up");
        sh(ip.toString(), "-n", ns, "addr", "add", address + "/24", "dev", "eth0");
        sh(ip.toString(), "-n", ns, "link", "set", "eth0", "up");
    }

    Process start(String name, List<String> command) throws IOException {
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", ns(name)));
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + "-" + Path.of(command.get(0)).getFileName() + ".log").toFile()).start();
        processes.add(process);
        return process;
    }

    boolean holdsVip(String name) {
        ProcessResult addr = ExternalTool.run(Duration.ofSeconds(5), List.of(ip.toString(), "-n", ns(name), "-o", "-4", "addr", "show", "dev", "eth0"), dir);
        return addr.stdout().contains(" " + VIP + "/");
    }

    /** Polls until {@code name} holds the VIP; returns the time taken, or fails after {@code limit}. */
    Duration waitForVip(String name, Duration limit) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).compareTo(limit) < 0) {
            if (holdsVip(name)) {
                return Duration.between(start, Instant.now());
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " did not take the VIP within " + limit);
    }

    String showStat(String lb) {
        ProcessResult stat = ExternalTool.run(Duration.ofSeconds(5), List.of("python3", "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'show stat\\n');"
                        + " print(b''.join(iter(lambda: s.recv(65536), b'')).decode())",
                runDir.resolve(lb + "-admin.sock").toString()), dir);
        return stat.stdout();
    }

    boolean backendDown(String lb, String server) {
        return showStat(lb).lines().anyMatch(l -> l.startsWith("kube-apiserver," + server + ",") && l.contains(",DOWN"));
    }

    @Test
    void standInApiserversBehindRenderedHaproxyAndKeepalivedFailOverWithinThreeSeconds() throws Exception {
        ip = ExternalTool.require("ip");
        Path haproxy = ExternalTool.require("haproxy");
        Path keepalived = ExternalTool.require("keepalived");
        ExternalTool.require("python3");
        ExternalTool.require("curl");
        ExternalTool.requireRoot();
        runDir = Files.createDirectories(Path.of("/run/piimage-test-" + id));
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxr-xr-x"));

        Path planFile = Files.writeString(dir.resolve("plan.yaml"), EndpointConfigsRealToolsTest.plan("dedicated", PORT, false, true));
        Bake.Result result = Bake.builder(planFile).output(dir.resolve("out")).build().run();
        Map<String, NodeCard> cards = new TreeMap<>();
        result.cards().forEach(c -> cards.put(c.node().name(), c));

        sh(ip.toString(), "netns", "add", ns("sw"));
        namespaces.add(ns("sw"));
        sh(ip.toString(), "-n", ns("sw"), "link", "add", "br0", "type", "bridge");
        sh(ip.toString(), "-n", ns("sw"), "link", "set", "br0", "up");
        host("lb1", "10.200.99.11");
        host("lb2", "10.200.99.12");
        host("client", "10.200.99.50");
        SecureRandom random = new SecureRandom();
        KeyAndCertificate ca = Certificates.newCertificateAuthority("stand-in-ca", KeyAlgorithm.ECDSA_P256, Instant.now(), random);
        Path standIn = Project.root().resolve("src/test/standins/apiserver-stand-in.py");
        Map<String, Process> apiservers = new TreeMap<>();
        for (int i = 1; i <= 3; i++) {
            String cp = "cp" + i;
            String address = "10.200.99.2" + i;
            host(cp, address);
            KeyAndCertificate serving = Certificates.newServingCertificate(ca, cp, List.of(cp), List.of(address),
                    KeyAlgorithm.ECDSA_P256, Instant.now(), random);
            Path crt = Files.writeString(dir.resolve(cp + ".crt"), serving.certificatePem());
            Path key = Files.writeString(dir.resolve(cp + ".key"), serving.privateKeyPem());
            apiservers.put(cp, start(cp, List.of("python3", standIn.toString(), "0.0.0.0", "6443", crt.toString(), key.toString())));
        }

        for (String lb : List.of("lb1", "lb2")) {
            NodeCard card = cards.get(lb);
            sh(ip.toString(), "netns", "exec", ns(lb), "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1");
            Path check = runDir.resolve(lb + "-check");
            Files.write(check, card.nodeFiles().file("/etc/keepalived/piimage-check-endpoint").orElseThrow().content());
            Files.setPosixFilePermissions(check, PosixFilePermissions.fromString("rwxr-xr-x"));
            String admin = runDir.resolve(lb + "-admin.sock").toString();
            // Paths only: the admin socket lives in this test's run directory; no chroot outside a Pi.
            String cfg = card.nodeFiles().file("/etc/haproxy/haproxy.cfg").orElseThrow().text()
                    .replace("/run/haproxy/admin.sock", admin).replace("chroot /var/lib/haproxy", "");
            Path cfgFile = Files.writeString(runDir.resolve(lb + "-haproxy.cfg"), cfg);
            sh(ip.toString(), "netns", "exec", ns(lb), haproxy.toString(), "-D", "-f", cfgFile.toString(), "-p",
                    runDir.resolve(lb + "-haproxy.pid").toString());
            String conf = card.nodeFiles().file("/etc/keepalived/keepalived.conf").orElseThrow().text()
                    .replace("/etc/keepalived/piimage-check-endpoint", check.toString());
            Path confFile = Files.writeString(runDir.resolve(lb + "-keepalived.conf"), conf);
            Files.setPosixFilePermissions(confFile, PosixFilePermissions.fromString("rw-------"));
            start(lb, List.of(keepalived.toString(), "-n", "-l", "-D", "-P", "-f", confFile.toString(),
                    "-p", runDir.resolve(lb + "-keepalived.pid").toString(), "-r", runDir.resolve(lb + "-vrrp.pid").toString()));
        }

        // 1. Exactly one load balancer holds the VIP.
        Instant electionStart = Instant.now();
        String active = null;
        while (active == null && Duration.between(electionStart, Instant.now()).toSeconds() < 20) {
            if (holdsVip("lb1")) {
                active = "lb1";
            } else if (holdsVip("lb2")) {
                active = "lb2";
            }
            Thread.sleep(100);
        }
        assertThat(active).as("a load balancer took the VIP").isNotNull();
        Thread.sleep(2000);
        String standby = active.equals("lb1") ? "lb2" : "lb1";
        assertThat(holdsVip(active)).isTrue();
        assertThat(holdsVip(standby)).as("exactly one holder").isFalse();
        System.out.printf("[pe] VIP on %s %d ms after keepalived started%n", active,
                Duration.between(electionStart, Instant.now()).toMillis() - 2000);

        // The client reaches a stand-in apiserver through the VIP.
        ProcessResult through = ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "exec", ns("client"),
                "curl", "-sk", "--max-time", "3", "https://" + VIP + ":" + PORT + "/healthz"), dir);
        assertThat(through.stdout()).isEqualTo("ok");

        // 2. A dead backend leaves rotation within 3 s, and no client request fails meanwhile.
        AtomicBoolean clientRunning = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Thread client = new Thread(() -> {
            while (clientRunning.get()) {
                ProcessResult r = ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "exec", ns("client"),
                        "curl", "-sk", "--max-time", "5", "https://" + VIP + ":" + PORT + "/healthz"), dir);
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
        apiservers.get("cp2").descendants().forEach(ProcessHandle::destroyForcibly);
        apiservers.get("cp2").destroyForcibly();
        Duration down = null;
        while (Duration.between(killed, Instant.now()).toSeconds() < 10) {
            if (backendDown(active, "cp2")) {
                down = Duration.between(killed, Instant.now());
                break;
            }
            Thread.sleep(100);
        }
        Thread.sleep(2000);
        clientRunning.set(false);
        client.join(15_000);
        assertThat(down).as("cp2 marked DOWN").isNotNull();
        System.out.printf("[pe] dead backend out of rotation after %d ms; %d client requests, %d failed%n",
                down.toMillis(), ok.get() + failures.size(), failures.size());
        assertThat(down).isLessThan(Duration.ofSeconds(3));
        assertThat(failures).isEmpty();
        assertThat(ok.get()).isGreaterThan(5);

        // 3. The active HAProxy dies: the VIP moves to the standby within 3 s.
        Instant haproxyKilled = Instant.now();
        killPidFile(runDir.resolve(active + "-haproxy.pid"));
        Duration moved = waitForVip(standby, Duration.ofSeconds(10));
        System.out.printf("[pe] VIP moved %s -> %s %d ms after HAProxy died%n", active, standby,
                Duration.between(haproxyKilled, Instant.now()).toMillis());
        assertThat(moved).isLessThan(Duration.ofSeconds(3));
        assertThat(holdsVip(active)).isFalse();
        ProcessResult afterFailover = ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "exec", ns("client"),
                "curl", "-sk", "--max-time", "3", "https://" + VIP + ":" + PORT + "/healthz"), dir);
        assertThat(afterFailover.stdout()).isEqualTo("ok");

        // 4. preempt: false: the recovered load balancer does not take the VIP back.
        sh(ip.toString(), "netns", "exec", ns(active), haproxy.toString(), "-D", "-f", runDir.resolve(active + "-haproxy.cfg").toString(),
                "-p", runDir.resolve(active + "-haproxy.pid").toString());
        Thread.sleep(6000);
        assertThat(holdsVip(standby)).as("VIP stays on " + standby).isTrue();
        assertThat(holdsVip(active)).isFalse();
    }
}
