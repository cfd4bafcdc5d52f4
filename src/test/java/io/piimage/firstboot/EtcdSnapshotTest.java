package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane's rendered snapshot script (piimage-etcd-snapshot) run for real against a real
 * etcd on loopback, with TLS from the plan's baked etcd CA and the baked etcd client certificate, as
 * on a node: keys written, snapshots taken (and copied to the second place), retention applied, the
 * newest snapshot restored with etcdctl into a fresh data directory, etcd started on it and the keys
 * read back.
 */
class EtcdSnapshotTest {

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void tools() {
        for (String tool : List.of("etcd", "etcdctl", "openssl", "curl", "jq", "flock")) {
            ExternalTool.require(tool);
        }
    }

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
    }

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster:
              name: snap
              kubernetesVersion: "1.31.4"
              keyAlgorithm: ecdsa-p256
            endpoint:
              vip: 10.78.0.10
              port: 6443
              loadBalancer: vip-only
            network:
              subnet: 10.78.0.0/24
              gateway: 10.78.0.1
            os:
              sshAuthorizedKeys: ["%s"]
            nodes:
              - {name: cp1, role: control-plane, address: 10.78.0.11}
            """.formatted(BakedNodes.SSH_KEY);

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    ProcessResult run(Duration timeout, String... command) {
        return ExternalTool.run(timeout, List.of(command), dir);
    }

    Process start(Path log, String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        processes.add(process);
        return process;
    }

    void waitHealthy(List<String> etcdctl, Path log) throws Exception {
        List<String> health = new ArrayList<>(etcdctl);
        health.addAll(List.of("endpoint", "health"));
        for (int i = 0; i < 100; i++) {
            if (ExternalTool.run(Duration.ofSeconds(10), health, dir).exitCode() == 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("etcd did not become healthy: " + Files.readString(log));
    }

    @Test
    void snapshotsOfARealEtcdOverItsGatewayRestoreWithTheirKeysAndOnlyTheNewestAreKept() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "snap", PLAN);
        Path root = baked.layOut("cp1", Files.createDirectories(dir.resolve("cp1")));
        Path pki = serverCertificate(root);

        String endpoint = startTlsMember(pki);
        List<String> etcdctl = List.of("etcdctl", "--endpoints=" + endpoint, "--cacert=" + pki.resolve("ca.crt"),
                "--cert=" + root.resolve("etc/piimage/pki/etcd-client.crt"), "--key=" + root.resolve("etc/piimage/pki/etcd-client.key"));
        waitHealthy(etcdctl, dir.resolve("etcd.log"));
        for (int i = 0; i < 50; i++) {
            List<String> put = new ArrayList<>(etcdctl);
            put.addAll(List.of("put", "/registry/test/key-" + i, "value-" + i + "-" + "x".repeat(2000)));
            ProcessResult result = ExternalTool.run(Duration.ofSeconds(10), put, dir);
            assertThat(result.exitCode()).as(result.output()).isZero();
        }

        Path copyTo = Files.createDirectories(root.resolve("mnt/backup"));
        Files.writeString(root.resolve("etc/piimage/maintenance.env"), """
                # the test's etcd and retention
                PIIMAGE_SNAPSHOT_ENDPOINT=%s
                PIIMAGE_SNAPSHOT_KEEP=2
                PIIMAGE_SNAPSHOT_COPY_TO=/mnt/backup
                """.formatted(endpoint), StandardOpenOption.APPEND);
        String script = root.resolve("usr/local/sbin/piimage-etcd-snapshot").toString();

        // Not assembled yet: nothing is taken.
        ProcessResult early = ExternalTool.run(Duration.ofSeconds(60), List.of("env", "PIIMAGE_ROOT=" + root, "bash", script), dir);
        assertThat(early.exitCode()).as(early.output()).isZero();
        assertThat(early.stderr()).contains("not assembled yet");
        assertThat(root.resolve("var/lib/piimage/etcd-snapshots")).doesNotExist();

        Files.createDirectories(root.resolve("var/lib/piimage"));
        Files.writeString(root.resolve("var/lib/piimage/done"), "");
        for (int i = 0; i < 3; i++) {
            ProcessResult taken = ExternalTool.run(Duration.ofSeconds(120), List.of("env", "PIIMAGE_ROOT=" + root, "bash", script), dir);
            assertThat(taken.exitCode()).as(taken.output()).isZero();
            assertThat(taken.stderr()).contains("SHA-256 verified", "copied to");
        }
        Path snapshots = root.resolve("var/lib/piimage/etcd-snapshots");
        List<Path> kept = snapshotsIn(snapshots);
        assertThat(kept).as("retention keeps the newest 2").hasSize(2);
        assertThat(snapshotsIn(copyTo)).hasSize(2);
        assertThat(kept.get(0).getFileName().toString()).matches("etcd-cp1-\\d{8}T\\d{6}Z\\.db");
        try (Stream<Path> files = Files.list(snapshots)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no partial files left").noneMatch(n -> n.startsWith(".partial"));
        }
        assertThat(Files.getPosixFilePermissions(kept.get(1))).hasSize(2);

        // etcd's own tool accepts the file as a snapshot (it checks the appended SHA-256 as well).
        Path newest = kept.get(kept.size() - 1);
        ProcessResult status = run(Duration.ofSeconds(30), "etcdctl", "snapshot", "status", newest.toString(), "-w", "json");
        assertThat(status.exitCode()).as(status.output()).isZero();

        // Restore into a fresh data directory, start etcd on it, read the keys back.
        run(Duration.ofSeconds(10), "kill", "-9", String.valueOf(processes.get(0).pid()));
        List<String> restored = restoreAndStart(newest);
        List<String> get = new ArrayList<>(restored);
        get.addAll(List.of("get", "--prefix", "/registry/test/", "--keys-only"));
        ProcessResult keys = ExternalTool.run(Duration.ofSeconds(10), get, dir);
        assertThat(keys.exitCode()).as(keys.output()).isZero();
        assertThat(keys.stdout().lines().filter(l -> !l.isBlank())).hasSize(50).contains("/registry/test/key-0", "/registry/test/key-49");
        List<String> one = new ArrayList<>(restored);
        one.addAll(List.of("get", "/registry/test/key-7", "--print-value-only"));
        assertThat(ExternalTool.run(Duration.ofSeconds(10), one, dir).stdout()).startsWith("value-7-xxx");
    }

    /**
     * {@code piimage snapshot} from the operator's machine: the same HTTPS path against a real etcd with
     * TLS from the baked CA and the secrets directory's etcd client certificate (the first endpoint asked
     * is dead: the next is tried), the file checked and renamed into place; etcd's own tool restores it
     * and the keys come back. A file that is not a snapshot is told apart.
     */
    @Test
    void piimageSnapshotSavesAFileThatRestoresWithItsKeys() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "snap", PLAN);
        Path root = baked.layOut("cp1", Files.createDirectories(dir.resolve("cp1")));
        Path pki = serverCertificate(root);
        String endpoint = startTlsMember(pki);
        Path secrets = baked.result.secretsDir();
        List<String> etcdctl = List.of("etcdctl", "--endpoints=" + endpoint, "--cacert=" + secrets.resolve("etcd/ca.crt"),
                "--cert=" + secrets.resolve("etcd-client.crt"), "--key=" + secrets.resolve("etcd-client.key"));
        waitHealthy(etcdctl, dir.resolve("etcd.log"));
        for (int i = 0; i < 20; i++) {
            List<String> put = new ArrayList<>(etcdctl);
            put.addAll(List.of("put", "/registry/test/key-" + i, "value-" + i));
            assertThat(ExternalTool.run(Duration.ofSeconds(10), put, dir).exitCode()).isZero();
        }

        Path file = dir.resolve("backups/snap.db");
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine command = io.piimage.cli.Main.commandLine();
        command.setOut(new java.io.PrintWriter(out));
        command.setErr(new java.io.PrintWriter(err));
        int code = command.execute("snapshot", dir.resolve("snap.yaml").toString(), "-o", file.toString(),
                "--endpoint", "https://127.0.0.1:" + freePort(), "--endpoint", endpoint);
        assertThat(code).as(out + "" + err).isZero();
        assertThat(out.toString()).contains("wrote " + file, "from " + endpoint, "SHA-256 verified");
        assertThat(err.toString()).contains("warning: https://127.0.0.1:", "connection refused");
        assertThat(io.piimage.pipeline.EtcdSnapshot.problem(file)).isNull();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("snap.db");
        }
        ProcessResult status = run(Duration.ofSeconds(30), "etcdctl", "snapshot", "status", file.toString(), "-w", "json");
        assertThat(status.exitCode()).as(status.output()).isZero();

        List<String> restored = restoreAndStart(file);
        List<String> get = new ArrayList<>(restored);
        get.addAll(List.of("get", "/registry/test/key-13", "--print-value-only"));
        assertThat(ExternalTool.run(Duration.ofSeconds(10), get, dir).stdout().strip()).isEqualTo("value-13");

        // Not snapshots: a text file; a snapshot cut short (its trailer no longer matches).
        Path text = Files.writeString(dir.resolve("notes.db"), "x".repeat(4096));
        assertThat(io.piimage.pipeline.EtcdSnapshot.problem(text)).contains("not an etcd snapshot");
        byte[] bytes = Files.readAllBytes(file);
        Path cut = Files.write(dir.resolve("cut.db"), java.util.Arrays.copyOf(bytes, bytes.length - 4096));
        assertThat(io.piimage.pipeline.EtcdSnapshot.problem(cut)).contains("SHA-256 trailer does not match");
    }

    /** A real etcd member on loopback serving TLS with dir/server.* and asking clients for certificates of {@code pki}'s CA. */
    String startTlsMember(Path pki) throws IOException {
        int client = freePort();
        int peer = freePort();
        String endpoint = "https://127.0.0.1:" + client;
        start(dir.resolve("etcd.log"), "etcd", "--name", "cp1", "--data-dir", dir + "/etcd-data",
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                "--initial-cluster", "cp1=http://127.0.0.1:" + peer,
                "--client-cert-auth", "--trusted-ca-file", pki + "/ca.crt",
                "--cert-file", dir + "/server.crt", "--key-file", dir + "/server.key");
        return endpoint;
    }

    /** {@code snapshot} restored with etcdctl into a fresh data directory and served by a new etcd: its etcdctl command. */
    List<String> restoreAndStart(Path snapshot) throws Exception {
        int restoredClient = freePort();
        int restoredPeer = freePort();
        ProcessResult restore = run(Duration.ofSeconds(60), "etcdctl", "snapshot", "restore", snapshot.toString(),
                "--data-dir", dir + "/restored", "--name", "restored",
                "--initial-cluster", "restored=http://127.0.0.1:" + restoredPeer,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + restoredPeer);
        assertThat(restore.exitCode()).as(restore.output()).isZero();
        start(dir.resolve("etcd-restored.log"), "etcd", "--name", "restored", "--data-dir", dir + "/restored",
                "--listen-client-urls", "http://127.0.0.1:" + restoredClient, "--advertise-client-urls", "http://127.0.0.1:" + restoredClient,
                "--listen-peer-urls", "http://127.0.0.1:" + restoredPeer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + restoredPeer,
                "--initial-cluster", "restored=http://127.0.0.1:" + restoredPeer);
        List<String> restored = List.of("etcdctl", "--endpoints=http://127.0.0.1:" + restoredClient);
        waitHealthy(restored, dir.resolve("etcd-restored.log"));
        return restored;
    }

    /** The member's server certificate (dir/server.*), signed by the baked etcd CA as kubeadm signs it (127.0.0.1 included). */
    Path serverCertificate(Path root) throws IOException {
        Path pki = root.resolve("etc/kubernetes/pki/etcd");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
        assertThat(run(Duration.ofSeconds(30), "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=cp1").exitCode()).isZero();
        ProcessResult sign = run(Duration.ofSeconds(30), "openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", pki + "/ca.crt",
                "-CAkey", pki + "/ca.key", "-CAcreateserial", "-out", dir + "/server.crt", "-days", "2", "-extfile", dir + "/server.ext");
        assertThat(sign.exitCode()).as(sign.output()).isZero();
        return pki;
    }

    /** A gateway stand-in whose stream ends like a snapshot but with a hash that does not match: nothing is kept. */
    @Test
    void aStreamWhoseHashDoesNotMatchIsNotKept_gatewayStandIn() throws Exception {
        ExternalTool.require("python3");
        BakedNodes baked = BakedNodes.bake(dir, "snap", PLAN);
        Path root = baked.layOut("cp1", Files.createDirectories(dir.resolve("cp1")));
        serverCertificate(root);
        int port = freePort();
        Path gateway = dir.resolve("gateway-stand-in.py");
        Files.writeString(gateway, """
                import base64, http.server, json, ssl, sys
                class Handler(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        self.rfile.read(int(self.headers.get("Content-Length", 0)))
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        for blob in (b"a database cut short", bytes(32)):
                            line = {"result": {"blob": base64.b64encode(blob).decode()}}
                            self.wfile.write(json.dumps(line).encode() + b"\\n")
                    def log_message(self, *args):
                        pass
                server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                server.socket = context.wrap_socket(server.socket, server_side=True)
                server.serve_forever()
                """);
        start(dir.resolve("gateway.log"), "python3", gateway.toString(), String.valueOf(port),
                dir.resolve("server.crt").toString(), dir.resolve("server.key").toString());
        for (int i = 0; i < 100; i++) {
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
                break;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        Files.writeString(root.resolve("etc/piimage/maintenance.env"),
                "PIIMAGE_SNAPSHOT_ENDPOINT=https://127.0.0.1:" + port + "\n", StandardOpenOption.APPEND);
        Files.createDirectories(root.resolve("var/lib/piimage"));
        Files.writeString(root.resolve("var/lib/piimage/done"), "");
        ProcessResult failed = ExternalTool.run(Duration.ofSeconds(60), List.of("env", "PIIMAGE_ROOT=" + root, "bash",
                root.resolve("usr/local/sbin/piimage-etcd-snapshot").toString()), dir);
        assertThat(failed.exitCode()).as(failed.output() + Files.readString(dir.resolve("gateway.log"))).isEqualTo(1);
        assertThat(failed.stderr()).contains("incomplete (its SHA-256 does not match)");
        try (Stream<Path> files = Files.list(root.resolve("var/lib/piimage/etcd-snapshots"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsOnly(".lock");
        }
    }

    @Test
    void noEtcdAnsweringLeavesNoSnapshotAndFails() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "snap", PLAN);
        Path root = baked.layOut("cp1", Files.createDirectories(dir.resolve("cp1")));
        Files.writeString(root.resolve("etc/piimage/maintenance.env"),
                "PIIMAGE_SNAPSHOT_ENDPOINT=https://127.0.0.1:" + freePort() + "\n", StandardOpenOption.APPEND);
        Files.createDirectories(root.resolve("var/lib/piimage"));
        Files.writeString(root.resolve("var/lib/piimage/done"), "");
        ProcessResult failed = ExternalTool.run(Duration.ofSeconds(60), List.of("env", "PIIMAGE_ROOT=" + root, "bash",
                root.resolve("usr/local/sbin/piimage-etcd-snapshot").toString()), dir);
        assertThat(failed.exitCode()).isEqualTo(1);
        assertThat(failed.stderr()).contains("did not send a snapshot");
        try (Stream<Path> files = Files.list(root.resolve("var/lib/piimage/etcd-snapshots"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsOnly(".lock");
        }
    }

    static List<Path> snapshotsIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".db")).sorted().toList();
        }
    }
}
