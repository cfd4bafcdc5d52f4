package io.piimage.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliRunner;
import io.piimage.cli.CliRunner.Run;
import io.piimage.pipeline.Bake;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * status and wait through the real CLI, against a cluster made of a stand-in apiserver (our HTTPS
 * server, see {@link StandInApiServer}) and a REAL etcd (Debian etcd-server 3.4) with TLS from the
 * baked etcd CA, all on a random 127.x.y.0/24 loopback network so parallel runs do not collide.
 */
class ClusterStatusTest {

    @TempDir
    Path dir;

    private String net;
    private String vip;
    private String master;
    private Path plan;
    private Path out;
    private Path secrets;
    private final List<AutoCloseable> running = new ArrayList<>();

    @BeforeEach
    void bakeAPlanOnLoopback() throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        net = "127." + random.nextInt(10, 250) + "." + random.nextInt(1, 250);
        vip = net + ".10";
        master = net + ".11";
        String example = Files.readString(Project.example("nkte8.yaml"));
        String key = example.lines().filter(l -> l.strip().startsWith("- ssh-ed25519")).findFirst().orElseThrow().strip().substring(2);
        plan = dir.resolve("loop.yaml");
        Files.writeString(plan, String.join("\n",
                "apiVersion: piimage/v1",
                "cluster: {name: loop, kubernetesVersion: \"1.31\"}",
                "endpoint: {vip: " + vip + ", port: 6443, loadBalancer: vip-only}",
                "network: {subnet: " + net + ".0/24, gateway: " + net + ".1}",
                "os:",
                "  sshAuthorizedKeys: [\"" + key + "\"]",
                "nodes:",
                "  - {name: master1, role: control-plane, address: " + master + "}",
                "  - {name: worker1, role: worker, address: " + net + ".21}",
                ""));
        out = dir.resolve("out");
        Bake.Result result = Bake.builder(plan).output(out).build().run();
        secrets = result.secretsDir();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : running) {
            closeable.close();
        }
    }

    private Run status(String... extra) {
        List<String> args = new ArrayList<>(List.of("status", plan.toString(), "--kubeconfig", out.resolve("admin.conf").toString(),
                "--request-timeout", "2s"));
        args.addAll(List.of(extra));
        return CliRunner.piimage(args.toArray(String[]::new));
    }

    private StandInApiServer apiserver(String address) throws Exception {
        TestCertificates.Issued serving = TestCertificates.issue(Files.readString(secrets.resolve("ca.crt")),
                Files.readString(secrets.resolve("ca.key")), "kube-apiserver", List.of(vip, master), Duration.ofDays(365));
        TlsIdentity identity = new TlsIdentity(TlsIdentity.certificates(Files.readString(secrets.resolve("ca.crt"))),
                serving.certificate(), TlsIdentity.privateKey(serving.keyPem()));
        StandInApiServer server = new StandInApiServer(address, 6443, identity.sslContext());
        running.add(server);
        return server;
    }

    /** A real single-member etcd named master1 on master's address, TLS from the baked etcd CA. */
    private void etcd() throws Exception {
        Path etcd = ExternalTool.require("etcd");
        Path data = Files.createDirectories(dir.resolve("etcd"));
        TestCertificates.Issued serving = TestCertificates.issue(Files.readString(secrets.resolve("etcd/ca.crt")),
                Files.readString(secrets.resolve("etcd/ca.key")), "master1", List.of(master), Duration.ofDays(365));
        Path cert = Files.writeString(data.resolve("server.crt"), serving.certificatePem());
        Path key = Files.writeString(data.resolve("server.key"), serving.keyPem());
        Path ca = secrets.resolve("etcd/ca.crt");
        String client = "https://" + master + ":2379";
        String peer = "https://" + master + ":2380";
        Process process = new ProcessBuilder(etcd.toString(), "--name", "master1", "--data-dir", data.resolve("member").toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "master1=" + peer, "--initial-cluster-state", "new",
                "--client-cert-auth", "--trusted-ca-file", ca.toString(), "--cert-file", cert.toString(), "--key-file", key.toString(),
                "--peer-client-cert-auth", "--peer-trusted-ca-file", ca.toString(),
                "--peer-cert-file", cert.toString(), "--peer-key-file", key.toString())
                .redirectErrorStream(true).redirectOutput(data.resolve("etcd.log").toFile()).start();
        running.add(() -> {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!open(master, 2379)) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("etcd did not start: " + Files.readString(data.resolve("etcd.log")));
            }
            Thread.sleep(100);
        }
    }

    private static boolean open(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void nothingRunningFailsFastWithEveryCheckNamed() {
        long start = System.nanoTime();
        Run run = status();
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("FAIL vip").contains(vip + ":6443 does not accept connections")
                .contains("FAIL apiserver master1").contains("FAIL etcd master1")
                .contains("the cluster does not match the plan yet");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }

    @Test
    void aClusterThatMatchesThePlanExitsZero() throws Exception {
        StandInApiServer viaVip = apiserver(vip);
        StandInApiServer direct = apiserver(master);
        viaVip.nodes.put("master1", "True");
        viaVip.nodes.put("worker1", "True");
        etcd();
        Run run = status();
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("ok   vip").contains("ok   readyz via VIP").contains("ok   apiserver master1")
                .contains("ok   nodes").contains("2/2 planned nodes Ready")
                .contains("ok   etcd members").contains("1 member(s): master1; no learner")
                .containsPattern("master1\\s+voter\\s+id \\d+ https://" + master.replace(".", "\\.") + ":2379")
                .containsPattern("admin client \\(kubeconfig\\)\\s+\\d{4}-\\d\\d-\\d\\d")
                .contains("etcd client").contains("cluster CA").contains("apiserver master1")
                .contains("the cluster matches the plan");
        // The stand-in saw the admin client certificate of the baked admin.conf.
        assertThat(viaVip.clients).isNotEmpty().allMatch(c -> c.contains("CN=kubernetes-admin"));
        assertThat(direct.clients).isNotEmpty();
    }

    @Test
    void missingNodesAndAnEtcdLearnerFailAndSayWhich() throws Exception {
        StandInApiServer viaVip = apiserver(vip);
        apiserver(master);
        viaVip.nodes.put("master1", "True");
        viaVip.nodes.put("stray", "True");
        etcd();
        // A second member joining as a learner, as a control plane does mid-join (etcdctl: the real client).
        Path etcdctl = ExternalTool.require("etcdctl");
        ProcessResult add = ExternalTool.run(Duration.ofSeconds(30), List.of(etcdctl.toString(),
                "--endpoints", "https://" + master + ":2379", "--cacert", secrets.resolve("etcd/ca.crt").toString(),
                "--cert", secrets.resolve("etcd-client.crt").toString(), "--key", secrets.resolve("etcd-client.key").toString(),
                "member", "add", "master2", "--learner", "--peer-urls", "https://" + net + ".12:2380"), dir);
        assertThat(add.exitCode()).as(add.output()).isZero();
        Run run = status();
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("FAIL nodes").contains("not registered: worker1")
                .contains("warn unplanned nodes").contains("stray")
                .contains("FAIL etcd members").contains("learner(s): (unstarted");
    }

    @Test
    void waitShowsWhatIsMissingUntilTheClusterIsComplete() throws Exception {
        StandInApiServer viaVip = apiserver(vip);
        apiserver(master);
        viaVip.nodes.put("master1", "True");
        viaVip.nodes.put("worker1", "False");
        etcd();
        Thread joiner = new Thread(() -> {
            while (viaVip.nodeListRequests.get() < 2) {
                Thread.onSpinWait();
            }
            viaVip.nodes.put("worker1", "True");
        });
        joiner.setDaemon(true);
        joiner.start();
        Run run = CliRunner.piimage("wait", plan.toString(), "--kubeconfig", out.resolve("admin.conf").toString(),
                "--timeout", "30s", "--interval", "200ms", "--request-timeout", "2s");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("waiting up to 30s for cluster loop (2 nodes)")
                .containsPattern("\\[00:\\d\\d] waiting: 1/2 nodes Ready; not Ready: worker1")
                .containsPattern("\\[00:\\d\\d] ready: 2 nodes Ready, 1 etcd members")
                .contains("cluster loop matches the plan after");
    }

    @Test
    void waitGivesUpAtTheTimeoutAndPrintsTheLastStatus() throws Exception {
        StandInApiServer viaVip = apiserver(vip);
        apiserver(master);
        viaVip.nodes.put("master1", "True");
        etcd();
        long start = System.nanoTime();
        Run run = CliRunner.piimage("wait", plan.toString(), "--kubeconfig", out.resolve("admin.conf").toString(),
                "--timeout", "1500ms", "--interval", "300ms");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("not registered: worker1").contains("timed out after 1500ms")
                .contains("FAIL nodes");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    }
}
