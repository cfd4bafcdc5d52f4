package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bake re-issues the leaf certificates of the secrets directory that expire within 90 days, from the
 * CAs the directory holds: checked with openssl against the same CA files, at a clock the test sets.
 */
class LeafRenewalRealToolsTest {

    @TempDir
    Path dir;

    /** Secrets made 300 days ago: their one-year leaves expire in 65 days, inside the 90-day window. */
    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    static final Instant MADE = NOW.minus(Duration.ofDays(300));

    ProcessResult openssl(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(ExternalTool.require("openssl").toString()));
        command.addAll(List.of(args));
        return ExternalTool.run(Duration.ofSeconds(30), command, dir);
    }

    @Test
    void leavesExpiringWithin90DaysAreReissuedFromTheSameCaWithNewKeys() throws Exception {
        ExternalTool.require("openssl");
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, MADE, new SecureRandom()), store);
        byte[] caBefore = Files.readAllBytes(store.resolve("ca.crt"));
        byte[] etcdCaBefore = Files.readAllBytes(store.resolve("etcd/ca.crt"));
        byte[] oldAdminKey = Files.readAllBytes(store.resolve("admin.key"));
        Path oldAdmin = Files.copy(store.resolve("admin.crt"), dir.resolve("old-admin.crt"));
        long in100Days = NOW.plus(Duration.ofDays(100)).getEpochSecond();
        // The old certificate is valid now and no longer in 100 days: that is what the renewal is for.
        assertThat(verify("ca.crt", oldAdmin, NOW.getEpochSecond()).exitCode()).isZero();
        assertThat(verify("ca.crt", oldAdmin, in100Days).output()).contains("certificate has expired");

        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        ClusterSecrets renewed = loaded.withLeavesRenewed(NOW, new SecureRandom());
        List<String> changes = SecretsStore.update(store, loaded, renewed);

        assertThat(changes).hasSize(2);
        assertThat(changes.get(0)).startsWith("re-issued admin.crt with a new key: the old one expires "
                + MADE.plus(Duration.ofDays(365)) + ", within 90 days; the new one is valid until " + NOW.plus(Duration.ofDays(365)))
                .endsWith("(admin.conf changes with it)");
        assertThat(changes.get(1)).startsWith("re-issued etcd-client.crt with a new key");
        // The CAs are the same files; the leaves verify against them at the clock's time and 100 days on.
        assertThat(Files.readAllBytes(store.resolve("ca.crt"))).isEqualTo(caBefore);
        assertThat(Files.readAllBytes(store.resolve("etcd/ca.crt"))).isEqualTo(etcdCaBefore);
        for (long at : new long[] {NOW.getEpochSecond(), in100Days}) {
            ProcessResult admin = verify("ca.crt", store.resolve("admin.crt"), at);
            assertThat(admin.exitCode()).as(admin.output()).isZero();
            ProcessResult etcd = verify("etcd/ca.crt", store.resolve("etcd-client.crt"), at);
            assertThat(etcd.exitCode()).as(etcd.output()).isZero();
        }
        assertThat(Files.readAllBytes(store.resolve("admin.key"))).isNotEqualTo(oldAdminKey);
        String subject = openssl("x509", "-noout", "-subject", "-in", store.resolve("admin.crt").toString()).stdout();
        assertThat(subject).contains("O = kubeadm:cluster-admins, CN = kubernetes-admin");
        ProcessResult keyMatches = ExternalTool.run(Duration.ofSeconds(30), List.of("bash", "-c",
                "diff <(openssl x509 -noout -pubkey -in admin.crt) <(openssl pkey -pubout -in admin.key)"), store);
        assertThat(keyMatches.exitCode()).as("admin.key belongs to admin.crt: " + keyMatches.output()).isZero();
        try (var list = Files.list(store)) {
            assertThat(list.map(p -> p.getFileName().toString())).noneMatch(name -> name.endsWith(".new"));
        }
        assertThat(SecretsStore.load(store, KeyAlgorithm.ECDSA_P256).admin().certificate()).isEqualTo(renewed.admin().certificate());

        // The next bake finds nothing to do.
        ClusterSecrets again = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(again.withLeavesRenewed(NOW.plus(Duration.ofDays(1)), new SecureRandom())).isSameAs(again);
    }

    @Test
    void leavesWithMoreThan90DaysLeftStayAsTheyAre() throws Exception {
        ClusterSecrets secrets = ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, MADE, new SecureRandom());
        // 365 - 274 = 91 days left: kept. 365 - 276 = 89 days left: renewed.
        assertThat(secrets.withLeavesRenewed(MADE.plus(Duration.ofDays(274)), new SecureRandom())).isSameAs(secrets);
        ClusterSecrets renewed = secrets.withLeavesRenewed(MADE.plus(Duration.ofDays(276)), new SecureRandom());
        assertThat(renewed.admin().certificate()).isNotEqualTo(secrets.admin().certificate());
        assertThat(renewed.ca()).isEqualTo(secrets.ca());
    }

    @Test
    void aRenewalInterruptedAfterTheKeyWasReplacedIsFinishedByTheNextLoad() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, MADE, new SecureRandom()), store);
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        ClusterSecrets renewed = loaded.withLeavesRenewed(NOW, new SecureRandom());
        // The state a power cut between the two renames leaves: new key in place, new certificate beside.
        Files.writeString(store.resolve("admin.key"), renewed.admin().privateKeyPem());
        Files.writeString(store.resolve("admin.crt.new"), renewed.admin().certificatePem());
        assertThat(SecretsStore.load(store, KeyAlgorithm.ECDSA_P256).admin().certificate()).isEqualTo(renewed.admin().certificate());
        assertThat(store.resolve("admin.crt.new")).doesNotExist();

        // A power cut before the first rename: both new files beside the untouched old pair.
        ClusterSecrets current = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        ClusterSecrets other = current.withLeavesRenewed(NOW.plus(Duration.ofDays(300)), new SecureRandom());
        Files.writeString(store.resolve("admin.key.new"), other.admin().privateKeyPem());
        Files.writeString(store.resolve("admin.crt.new"), other.admin().certificatePem());
        assertThat(SecretsStore.load(store, KeyAlgorithm.ECDSA_P256).admin().certificate()).isEqualTo(current.admin().certificate());
        assertThat(store.resolve("admin.key.new")).doesNotExist();
        assertThat(store.resolve("admin.crt.new")).doesNotExist();
    }

    private ProcessResult verify(String ca, Path certificate, long atEpochSecond) {
        return openssl("verify", "-attime", String.valueOf(atEpochSecond), "-CAfile", dir.resolve("s").resolve(ca).toString(),
                certificate.toString());
    }
}
