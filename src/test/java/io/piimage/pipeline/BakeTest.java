package io.piimage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.plan.InvalidPlanException;
import io.piimage.plan.Node;
import io.piimage.plan.Role;
import io.piimage.render.NodeFile;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class BakeTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-01T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    Bake.Result bake(Path plan, Path out) throws Exception {
        return Bake.builder(plan).output(out).clock(CLOCK).build().run();
    }

    static Map<String, byte[]> readTree(Path root) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(Path file) throws IOException {
        return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    }

    @Test
    void targetsAreChosenOnceAndAnArchiveCannotHoldNodeImages() throws Exception {
        assertThat(BakeTarget.at(dir.resolve("cards"))).isEqualTo(new BakeTarget.Directory(dir.resolve("cards")));
        assertThat(BakeTarget.at(null)).isEqualTo(new BakeTarget.Directory(null));
        assertThat(BakeTarget.at(dir.resolve("cards.tgz"))).isInstanceOf(BakeTarget.Archive.class);
        assertThat(BakeTarget.at(dir.resolve("cards.zip")).sink(dir.resolve("cards.zip"))).isInstanceOf(io.piimage.sink.ArchiveSink.class);
        assertThat(BakeTarget.nodeImages(dir.resolve("cards"), dir.resolve("base.img"), Compression.XZ, null).sink(dir.resolve("cards")))
                .isInstanceOf(io.piimage.sink.DirectorySink.class);
        for (String archive : List.of("cards.tar.gz", "cards.tgz", "cards.zip")) {
            assertThatThrownBy(() -> BakeTarget.nodeImages(dir.resolve(archive), dir.resolve("base.img"), Compression.NONE, null))
                    .hasMessageContaining("--base-image writes <node>.img files into a directory")
                    .hasMessageContaining("is an archive");
        }
        // The builder's shorthand refuses the same: it makes the same target.
        Path plan = Project.copyExample("makina.yaml", dir);
        assertThatThrownBy(() -> Bake.builder(plan).output(dir.resolve("cards.zip")).baseImage(dir.resolve("base.img")))
                .hasMessageContaining("is an archive");
        assertThatThrownBy(() -> BakeTarget.at(Path.of("/"))).hasMessageContaining("the output cannot be /");
        assertThat(dir.resolve("cards.zip")).doesNotExist();
    }

    @Test
    void makinaBakesEveryNodesSeedFilesAndAdminConf() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        Bake.Result result = bake(plan, out);

        assertThat(result.secretsCreated()).isTrue();
        assertThat(result.secretsDir()).isEqualTo(dir.resolve("makina.secrets"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(result.secretsDir()))).isEqualTo("rwx------");
        for (Node node : result.plan().nodes()) {
            for (String seed : List.of("user-data", "meta-data", "network-config")) {
                assertThat(out.resolve(node.name()).resolve(seed)).isRegularFile();
            }
        }
        assertThat(out.resolve("admin.conf")).isRegularFile();
        assertThat(Files.readString(out.resolve("admin.conf"))).contains("server: https://192.168.3.240:9000");
        assertThat(result.cards()).hasSize(result.plan().nodes().size());
    }

    @Test
    void seedFilesSayWhatTheNodeIs() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        Bake.Result result = bake(plan, out);
        Node master1 = result.plan().node("master1").orElseThrow();

        Map<String, Object> userData = yaml(out.resolve("master1/user-data"));
        assertThat(Files.readString(out.resolve("master1/user-data"))).startsWith("#cloud-config\n");
        assertThat(userData).containsEntry("hostname", "master1").containsEntry("ssh_pwauth", false);
        @SuppressWarnings("unchecked")
        Map<String, Object> user = ((List<Map<String, Object>>) userData.get("users")).get(0);
        assertThat(user).containsEntry("name", "ubuntu").containsEntry("lock_passwd", true);
        assertThat((List<?>) user.get("ssh_authorized_keys")).isEqualTo(result.plan().os().sshAuthorizedKeys());
        assertThat(userData).containsEntry("timezone", result.plan().os().timezone());

        String hosts = result.cards().get(result.plan().nodes().indexOf(master1)).nodeFiles()
                .file("/etc/hosts").orElseThrow().text();
        for (Node node : result.plan().nodes()) {
            assertThat(hosts).contains(node.address() + " " + node.name() + "\n");
        }

        Map<String, Object> metaData = yaml(out.resolve("master1/meta-data"));
        assertThat((String) metaData.get("instance-id")).matches("makina-master1-[0-9a-f]{8}");
        assertThat(metaData).containsEntry("local-hostname", "master1");

        Map<String, Object> network = yaml(out.resolve("master1/network-config"));
        assertThat(network.toString()).contains("version=2");
        @SuppressWarnings("unchecked")
        Map<String, Object> eth0 = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) network.get("network"))
                .get("ethernets")).get("eth0");
        assertThat(eth0.get("addresses")).isEqualTo(List.of("192.168.3.251/24"));
        assertThat(eth0.get("routes")).isEqualTo(List.of(Map.of("to", "0.0.0.0/0", "via", "192.168.3.1")));
        assertThat(eth0.get("dhcp4")).isEqualTo(false);
    }

    @Test
    void theGatewayTakesDhcpOnItsUplinkAndIsStaticOnTheClusterSide() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        Bake.Result result = bake(plan, out);
        Node gateway = result.plan().gatewayNode().orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> ethernets = (Map<String, Map<String, Object>>) ((Map<String, Object>) yaml(
                out.resolve(gateway.name()).resolve("network-config")).get("network")).get("ethernets");
        assertThat(ethernets.get(gateway.uplink())).containsEntry("dhcp4", true);
        assertThat(ethernets.get(result.plan().interfaceOf(gateway)))
                .containsEntry("dhcp4", false)
                .containsEntry("addresses", List.of(gateway.address() + "/24"))
                .doesNotContainKey("routes");
    }

    @Test
    void eachRoleCarriesOnlyItsSecrets() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Bake.Result result = bake(plan, dir.resolve("out"));
        String token = Files.readString(result.secretsDir().resolve("bootstrap-token")).strip();
        String caKey = Files.readString(result.secretsDir().resolve("ca.key"));
        for (NodeCard card : result.cards()) {
            String userData = card.bootFiles().file("user-data").orElseThrow().text();
            List<String> paths = card.nodeFiles().files().stream().map(NodeFile::path).toList();
            Role role = card.node().role();
            if (role == Role.CONTROL_PLANE) {
                assertThat(paths).contains("/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key",
                        "/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/sa.pub",
                        "/etc/kubernetes/pki/front-proxy-ca.crt", "/etc/kubernetes/pki/front-proxy-ca.key",
                        "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/ca.key");
                assertThat(paths.stream().filter(p -> p.startsWith("/etc/kubernetes/pki/"))).hasSize(8);
                for (NodeFile file : card.nodeFiles().files()) {
                    if (file.path().endsWith(".key")) {
                        assertThat(file.mode()).as(file.path()).isEqualTo(0600);
                    }
                }
                assertThat(card.nodeFiles().file("/etc/kubernetes/pki/ca.key").orElseThrow().text()).isEqualTo(caKey);
                assertThat(userData).contains("permissions: '0600'");
            } else if (role == Role.WORKER) {
                assertThat(paths).contains("/etc/piimage/kubeadm/discovery.conf", "/etc/piimage/ca-cert-hash")
                        .doesNotContain("/etc/piimage/bootstrap-token");
                assertThat(paths).noneMatch(p -> p.startsWith("/etc/kubernetes/pki/") || p.endsWith(".key"));
                // Only the node's own SSH host keys ("OPENSSH PRIVATE KEY"), no key of the cluster's PKI.
                assertThat(userData).doesNotContain("RSA PRIVATE KEY").doesNotContain("EC PRIVATE KEY");
                assertThat(card.nodeFiles().file("/etc/piimage/kubeadm/discovery.conf").orElseThrow().mode()).isEqualTo(0600);
            } else {
                assertThat(userData).as(card.node().name()).doesNotContain("RSA PRIVATE KEY").doesNotContain("EC PRIVATE KEY")
                        .doesNotContain(token)
                        .doesNotContain(token.substring(7)).doesNotContain("sha256:");
                assertThat(paths).noneMatch(p -> p.startsWith("/etc/kubernetes/") || p.contains("bootstrap-token"));
            }
        }
    }

    @Test
    void aSecondBakeReusesTheSecretsAndGivesIdenticalBytes() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        bake(plan, dir.resolve("one"));
        Map<String, byte[]> secretsBefore = readTree(dir.resolve("makina.secrets"));
        Bake.Result second = Bake.builder(plan).output(dir.resolve("two"))
                // Within a week: the nodes' join certificates (28 days) are re-issued once less than 21 days are left.
                .clock(Clock.fixed(Instant.parse("2026-11-07T00:00:00Z"), ZoneOffset.UTC)).build().run();
        assertThat(second.secretsCreated()).isFalse();
        Map<String, byte[]> one = readTree(dir.resolve("one"));
        Map<String, byte[]> two = readTree(dir.resolve("two"));
        assertThat(two.keySet()).isEqualTo(one.keySet());
        for (String name : one.keySet()) {
            assertThat(two.get(name)).as(name).isEqualTo(one.get(name));
        }
        Map<String, byte[]> secretsAfter = readTree(dir.resolve("makina.secrets"));
        assertThat(secretsAfter.keySet()).isEqualTo(secretsBefore.keySet());
        secretsBefore.forEach((name, bytes) -> assertThat(secretsAfter.get(name)).as(name).isEqualTo(bytes));
    }

    @Test
    void anInvalidPlanWritesNothingNotEvenSecrets() throws Exception {
        Path plan = dir.resolve("broken.yaml");
        Files.writeString(plan, Files.readString(Project.example("makina.yaml")).replace("192.168.3.252", "192.168.3.251"));
        assertThatThrownBy(() -> bake(plan, dir.resolve("out"))).isInstanceOf(InvalidPlanException.class);
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.toList()).containsExactly(plan);
        }
    }

    @Test
    void anIncompleteSecretsDirectoryIsAnErrorAndNothingIsWritten() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        bake(plan, dir.resolve("out"));
        Files.delete(dir.resolve("makina.secrets/etcd/ca.key"));
        Map<String, byte[]> before = readTree(dir.resolve("out"));
        assertThatThrownBy(() -> bake(plan, dir.resolve("out")))
                .isInstanceOf(BakeException.class).hasMessageContaining("etcd/ca.key");
        assertThat(dir.resolve("makina.secrets/etcd/ca.key")).doesNotExist();
        Map<String, byte[]> after = readTree(dir.resolve("out"));
        assertThat(after.keySet()).isEqualTo(before.keySet());
    }

    @Test
    void secretsOfAnotherKeyAlgorithmAreAnErrorNeverRegenerated() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        bake(plan, dir.resolve("out"));
        String text = Files.readString(plan);
        Files.writeString(plan, text.replaceFirst("(?m)^cluster:\n", "cluster:\n  keyAlgorithm: ecdsa-p256\n"));
        assertThatThrownBy(() -> bake(plan, dir.resolve("out2")))
                .isInstanceOf(BakeException.class).hasMessageContaining("ecdsa-p256").hasMessageContaining("rsa-2048");
        assertThat(dir.resolve("out2")).doesNotExist();
    }

    @Test
    void aFailureAfterTheSecretsWereSavedSaysSo() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        // Another program takes the output's place between the secrets and the rename of the cards.
        Bake bake = Bake.builder(plan).output(out).clock(CLOCK).events(event -> {
            if (event instanceof BakeEvent.SecretsCreated) {
                try {
                    Files.createDirectories(out.resolve("theirs"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }).build();
        assertThatThrownBy(bake::run).isInstanceOf(BakeException.class)
                .hasMessageContaining("is not an earlier piimage output")
                .extracting(e -> ((BakeException) e).written())
                .isEqualTo("the secrets directory " + dir.resolve("makina.secrets") + " was created (keep it); no card was written");
        assertThat(dir.resolve("makina.secrets/ca.key")).isRegularFile();
        assertThat(out.resolve("admin.conf")).doesNotExist();
    }

    @Test
    void concurrentBakesOfOneOutputEitherSucceedOrSayAnotherBakeIsWriting() throws Exception {
        Path plan = Project.copyExample("makina.yaml", dir);
        Path out = dir.resolve("out");
        bake(plan, out);
        List<Object> results = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread thread = new Thread(() -> {
                try {
                    results.add(bake(plan, out));
                } catch (Exception e) {
                    results.add(e);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(results).hasSize(4).anyMatch(r -> r instanceof Bake.Result);
        for (Object r : results) {
            if (r instanceof Exception e) {
                assertThat(e).hasMessageContaining("another bake").hasMessageContaining("is writing " + out);
            }
        }
        assertThat(out.resolve("admin.conf")).isRegularFile();
    }

    @Test
    void bothExamplesBake() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String example : List.of("makina.yaml", "nkte8.yaml")) {
            Path plan = Project.copyExample(example, dir);
            Bake.Result result = bake(plan, dir.resolve("out-" + example));
            if (result.cards().isEmpty()) {
                failures.add(example);
            }
        }
        assertThat(failures).isEmpty();
    }
}
