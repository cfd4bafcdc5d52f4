package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeEvent;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** What a bake does with host keys and close-to-expiry leaves, as cloud-init, ssh-keygen and openssl see it. */
class HostKeysAndRenewalInBakeRealToolsTest {

    @TempDir
    Path dir;

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster: {name: keys, kubernetesVersion: "1.31", keyAlgorithm: ecdsa-p256}
            endpoint: {vip: 10.77.0.240, port: 9000, loadBalancer: dedicated}
            network: {subnet: 10.77.0.0/24, gateway: 10.77.0.1}
            os:
              sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop"]
            nodes:
              - {name: lb1, role: load-balancer, address: 10.77.0.241}
              - {name: cp1, role: control-plane, address: 10.77.0.251}
            """;

    static final Instant T0 = Instant.parse("2026-01-10T00:00:00Z");

    List<BakeEvent> events = new ArrayList<>();

    Bake.Result bake(Path plan, Instant now) throws Exception {
        return Bake.builder(plan).output(dir.resolve("out")).clock(Clock.fixed(now, ZoneOffset.UTC)).events(events::add).build().run();
    }

    @Test
    void everyNodeGetsItsHostKeysThroughSshKeysAndKnownHostsListsThem() throws Exception {
        Path cloudInit = ExternalTool.require("cloud-init");
        Path keygen = ExternalTool.require("ssh-keygen");
        Path plan = Files.writeString(dir.resolve("keys.yaml"), PLAN);
        bake(plan, T0);
        Path secrets = dir.resolve("keys.secrets");
        Path out = dir.resolve("out");

        List<String> knownHosts = Files.readAllLines(out.resolve("known_hosts"));
        for (String node : List.of("lb1", "cp1")) {
            String address = node.equals("lb1") ? "10.77.0.241" : "10.77.0.251";
            Path userData = out.resolve(node).resolve("user-data");
            ProcessResult schema = ExternalTool.run(Duration.ofSeconds(120), List.of(cloudInit.toString(), "schema", "-c",
                    userData.toString()), dir);
            assertThat(schema.exitCode()).as(node + ": " + schema.output()).isZero();
            assertThat(schema.output()).contains("Valid cloud-config");

            @SuppressWarnings("unchecked")
            Map<String, Object> config = (Map<String, Object>) new Load(LoadSettings.builder().build())
                    .loadFromString(Files.readString(userData));
            assertThat(config.get("ssh_deletekeys")).isEqualTo(true);
            @SuppressWarnings("unchecked")
            Map<String, String> sshKeys = (Map<String, String>) config.get("ssh_keys");
            assertThat(sshKeys).containsOnlyKeys("ed25519_private", "ed25519_public", "ecdsa_private", "ecdsa_public");
            for (String type : SshHostKeys.TYPES) {
                Path stored = secrets.resolve("ssh").resolve(node).resolve("ssh_host_" + type + "_key");
                // cloud-init writes exactly what the secrets directory holds.
                assertThat(sshKeys.get(type + "_private")).isEqualTo(Files.readString(stored));
                assertThat(sshKeys.get(type + "_public")).isEqualTo(Files.readString(Path.of(stored + ".pub")).strip());
                ProcessResult fingerprint = ExternalTool.run(Duration.ofSeconds(30), List.of(keygen.toString(), "-l", "-f",
                        stored.toString()), dir);
                assertThat(fingerprint.exitCode()).as(fingerprint.output()).isZero();
                String publicKey = Files.readString(Path.of(stored + ".pub")).strip();
                String keyPart = publicKey.substring(0, publicKey.lastIndexOf(' '));
                assertThat(knownHosts).contains(node + "," + address + " " + keyPart);
                // ssh's own lookup finds the node's key in the file by name and by address.
                for (String host : List.of(node, address)) {
                    ProcessResult found = ExternalTool.run(Duration.ofSeconds(30), List.of(keygen.toString(), "-F", host, "-f",
                            out.resolve("known_hosts").toString()), dir);
                    assertThat(found.stdout()).as(host).contains(keyPart);
                }
            }
        }

        // A re-bake reuses the keys: the same cards, the same known_hosts, nothing reported.
        byte[] userDataBefore = Files.readAllBytes(out.resolve("lb1/user-data"));
        byte[] knownHostsBefore = Files.readAllBytes(out.resolve("known_hosts"));
        events.clear();
        bake(plan, T0.plus(Duration.ofDays(1)));
        assertThat(Files.readAllBytes(out.resolve("lb1/user-data"))).isEqualTo(userDataBefore);
        assertThat(Files.readAllBytes(out.resolve("known_hosts"))).isEqualTo(knownHostsBefore);
        assertThat(events).noneMatch(e -> e instanceof BakeEvent.SecretsUpdated);
    }

    @Test
    void aBakeCloseToTheLeavesExpiryReissuesThemAndAdminConfFollows() throws Exception {
        Path openssl = ExternalTool.require("openssl");
        Path plan = Files.writeString(dir.resolve("keys.yaml"), PLAN);
        bake(plan, T0);
        String adminConfBefore = Files.readString(dir.resolve("out/admin.conf"));

        events.clear();
        Instant later = T0.plus(Duration.ofDays(300)); // the leaves have 65 days left
        bake(plan, later);
        List<String> changes = events.stream().filter(e -> e instanceof BakeEvent.SecretsUpdated)
                .flatMap(e -> ((BakeEvent.SecretsUpdated) e).changes().stream()).toList();
        // 300 days on, the control plane's 28-day join certificate is re-issued too.
        assertThat(changes).hasSize(3);
        assertThat(changes.get(0)).startsWith("re-issued admin.crt with a new key");
        assertThat(changes.get(1)).startsWith("re-issued etcd-client.crt with a new key");
        assertThat(changes.get(2)).startsWith("issued join certificates for cp1");

        String adminConf = Files.readString(dir.resolve("out/admin.conf"));
        assertThat(adminConf).isNotEqualTo(adminConfBefore);
        String clientCert = new String(java.util.Base64.getDecoder().decode(adminConf.lines()
                .filter(l -> l.contains("client-certificate-data:")).findFirst().orElseThrow().split(": ")[1]));
        Path cert = Files.writeString(dir.resolve("admin-from-conf.crt"), clientCert);
        // Valid from the bake's clock for a year, against the same CA file as before.
        ProcessResult verify = ExternalTool.run(Duration.ofSeconds(30), List.of(openssl.toString(), "verify", "-attime",
                String.valueOf(later.plus(Duration.ofDays(200)).getEpochSecond()), "-CAfile",
                dir.resolve("keys.secrets/ca.crt").toString(), cert.toString()), dir);
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        assertThat(Files.readString(cert)).isEqualTo(Files.readString(dir.resolve("keys.secrets/admin.crt")));
        // The control plane's card carries the new etcd client certificate.
        assertThat(Files.readString(dir.resolve("out/cp1/user-data")))
                .contains(indent(Files.readString(dir.resolve("keys.secrets/etcd-client.crt"))));
    }

    private static String indent(String pem) {
        return pem.lines().map(l -> "      " + l).reduce((a, b) -> a + "\n" + b).orElseThrow();
    }
}
