package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each Kubernetes node's join certificate, checked with openssl and kubectl: signed by the cluster CA
 * of the secrets directory, for client authentication only, CN piimage:join:NODE and O the group kubeadm
 * binds its join RBAC to, valid 28 days from the bake (backdated 5 minutes), kept in the secrets
 * directory and re-issued by a bake once less than 21 days are left. Its key is ECDSA P-256 whatever the
 * cluster's key algorithm.
 */
class JoinCertificateRealToolsTest {

    @TempDir
    Path dir;

    static final Instant BAKE = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    ProcessResult run(String... command) {
        return ExternalTool.run(Duration.ofSeconds(30), List.of(command), dir);
    }

    ProcessResult verify(Path certificate, Instant at) {
        return run(ExternalTool.require("openssl").toString(), "verify", "-CAfile", dir.resolve("s/ca.crt").toString(),
                "-purpose", "sslclient", "-attime", String.valueOf(at.getEpochSecond()), certificate.toString());
    }

    @Test
    void aJoinCertificateVerifiesAgainstTheClusterCaForFourWeeksWithTheBootstrappersGroup() throws Exception {
        ExternalTool.require("openssl");
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, BAKE.minus(Duration.ofDays(200)), new SecureRandom()), store);
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(loaded.joinCertificates()).isEmpty();
        ClusterSecrets baked = loaded.withJoinCertificatesFor(List.of("w1", "cp2"), BAKE, new SecureRandom());
        List<String> changes = SecretsStore.update(store, loaded, baked);
        assertThat(changes).containsExactly("issued join certificates for cp2, w1 (join/, valid 28 days): their cards join "
                + "with them, no bootstrap token needed");
        Path crt = store.resolve("join/w1.crt");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.resolve("join/w1.key")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.resolve("join")))).isEqualTo("rwx------");

        for (Instant at : List.of(BAKE.minus(Duration.ofMinutes(4)), BAKE, BAKE.plus(Duration.ofDays(27)))) {
            ProcessResult ok = verify(crt, at);
            assertThat(ok.exitCode()).as(at + ": " + ok.output()).isZero();
        }
        assertThat(verify(crt, BAKE.plus(Duration.ofDays(29))).output()).contains("certificate has expired");
        assertThat(verify(crt, BAKE.minus(Duration.ofMinutes(6))).output()).contains("certificate is not yet valid");

        String openssl = ExternalTool.require("openssl").toString();
        assertThat(run(openssl, "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", crt.toString()).stdout().strip())
                .isEqualTo("subject=CN=piimage:join:w1,O=system:bootstrappers:kubeadm:default-node-token");
        DateTimeFormatter openSslDate = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss yyyy 'GMT'", java.util.Locale.ROOT)
                .withZone(ZoneOffset.UTC);
        assertThat(run(openssl, "x509", "-noout", "-startdate", "-enddate", "-in", crt.toString()).stdout()).isEqualTo(
                "notBefore=" + openSslDate.format(BAKE.minus(Duration.ofMinutes(5))) + "\n"
                        + "notAfter=" + openSslDate.format(BAKE.plus(Duration.ofDays(28))) + "\n");
        String extensions = run(openssl, "x509", "-noout", "-ext", "extendedKeyUsage,basicConstraints,keyUsage", "-in",
                crt.toString()).stdout();
        assertThat(extensions).contains("TLS Web Client Authentication", "CA:FALSE", "Digital Signature")
                .doesNotContain("TLS Web Server Authentication");
        ProcessResult keyMatches = ExternalTool.run(Duration.ofSeconds(30), List.of("bash", "-c",
                "diff <(openssl x509 -noout -pubkey -in join/w1.crt) <(openssl pkey -pubout -in join/w1.key)"), store);
        assertThat(keyMatches.exitCode()).as(keyMatches.output()).isZero();

        // What the card carries: a kubeconfig kubectl reads, with the endpoint, the CA and this certificate.
        Path kubeconfig = dir.resolve("discovery.conf");
        Files.writeString(kubeconfig, baked.joinKubeconfig("w1", "home", "https://10.0.0.10:6443"));
        String kubectl = ExternalTool.require("kubectl").toString();
        ProcessResult view = run(kubectl, "config", "view", "--kubeconfig", kubeconfig.toString(), "--raw", "-o",
                "jsonpath={.clusters[0].cluster.server} {.users[0].name} {.users[0].user.client-certificate-data}");
        assertThat(view.exitCode()).as(view.output()).isZero();
        String[] fields = view.stdout().split(" ");
        assertThat(fields[0]).isEqualTo("https://10.0.0.10:6443");
        assertThat(fields[1]).isEqualTo("piimage-join-w1");
        assertThat(new String(java.util.Base64.getDecoder().decode(fields[2]))).isEqualTo(Files.readString(crt));
    }

    @Test
    void aBakeKeepsAJoinCertificateWithThreeWeeksLeftAndReissuesItAfter() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, BAKE, new SecureRandom())
                .withJoinCertificatesFor(List.of("w1"), BAKE, new SecureRandom()), store);
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(loaded.joinCertificates()).containsOnlyKeys("w1");
        // 28 - 6 = 22 days left: kept (two bakes within a week give identical cards).
        assertThat(loaded.withJoinCertificatesFor(List.of("w1"), BAKE.plus(Duration.ofDays(6)), new SecureRandom())).isSameAs(loaded);
        // 28 - 8 = 20 days left: a new certificate with a new key; other nodes' certificates are kept.
        ClusterSecrets later = loaded.withJoinCertificatesFor(List.of("w1", "w2"), BAKE.plus(Duration.ofDays(8)), new SecureRandom());
        assertThat(later.joinCertificates().get("w1").certificate()).isNotEqualTo(loaded.joinCertificates().get("w1").certificate());
        assertThat(later.joinCertificates().get("w1").privateKey()).isNotEqualTo(loaded.joinCertificates().get("w1").privateKey());
        assertThat(later.withJoinCertificatesFor(List.of("w2"), BAKE.plus(Duration.ofDays(8)), new SecureRandom())).isSameAs(later);
        SecretsStore.update(store, loaded, later);
        ClusterSecrets reloaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        assertThat(reloaded.joinCertificates().get("w1").certificate()).isEqualTo(later.joinCertificates().get("w1").certificate());
        assertThat(reloaded.joinCertificates()).containsOnlyKeys("w1", "w2");
        List<String> left = new ArrayList<>();
        try (var list = Files.list(store.resolve("join"))) {
            list.map(p -> p.getFileName().toString()).sorted().forEach(left::add);
        }
        assertThat(left).containsExactly("w1.crt", "w1.key", "w2.crt", "w2.key");
    }

    @Test
    void onAnRsaClusterAJoinKeyIsEcdsaP256NamingItsPublicKeyAndAnOlderRsaJoinCertificateStaysUntilDue() throws Exception {
        String openssl = ExternalTool.require("openssl").toString();
        Path store = dir.resolve("s");
        ClusterSecrets secrets = ClusterSecrets.generate(KeyAlgorithm.RSA_2048, BAKE, new SecureRandom());
        // w2's certificate as bakes made them before join keys were ECDSA: an RSA key, like the CA's.
        KeyAndCertificate olderRsa = Certificates.newClientCertificate(secrets.ca(), Certificates.JOIN_CN_PREFIX + "w2",
                List.of(Certificates.JOIN_GROUP), KeyAlgorithm.RSA_2048, BAKE, new SecureRandom());
        SecretsStore.write(secrets.withJoinCertificatesFor(List.of("w1", "w3"), BAKE, new SecureRandom()), store);
        Files.writeString(store.resolve("join/w2.crt"), olderRsa.certificatePem());
        Files.writeString(store.resolve("join/w2.key"), olderRsa.privateKeyPem());

        String key = run(openssl, "pkey", "-noout", "-text", "-in", store.resolve("join/w1.key").toString()).stdout();
        assertThat(key).contains("ASN1 OID: prime256v1", "pub:");
        assertThat(Files.readString(store.resolve("join/w1.key"))).startsWith("-----BEGIN EC PRIVATE KEY-----");
        ProcessResult ok = verify(store.resolve("join/w1.crt"), BAKE);
        assertThat(ok.exitCode()).as("an ECDSA join certificate from the RSA cluster CA: " + ok.output()).isZero();
        assertThat(run(openssl, "x509", "-noout", "-text", "-in", store.resolve("join/w1.crt").toString()).stdout())
                .contains("Signature Algorithm: sha256WithRSAEncryption", "Public Key Algorithm: id-ecPublicKey")
                .doesNotContain("Key Encipherment");

        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.RSA_2048);
        assertThat(loaded.joinCertificates()).containsOnlyKeys("w1", "w2", "w3");
        assertThat(loaded.joinCertificates().get("w2").privateKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(loaded.withJoinCertificatesFor(List.of("w1", "w2", "w3"), BAKE, new SecureRandom())).isSameAs(loaded);

        // A mixed-up pair is refused, whether the key file names its public key (piimage's) or not (openssl's
        // -no_public, or any writer that leaves the optional field out).
        String w3Key = Files.readString(store.resolve("join/w3.key"));
        Files.writeString(store.resolve("join/w1.key"), w3Key);
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.RSA_2048))
                .hasMessageContaining("join/w1.key does not belong to join/w1.crt");
        Files.writeString(store.resolve("join/w1.key"), noPublicKey(openssl, w3Key));
        assertThat(Pem.embeddedPublicKeyBits(Files.readString(store.resolve("join/w1.key")))).isNull();
        assertThatThrownBy(() -> SecretsStore.load(store, KeyAlgorithm.RSA_2048))
                .hasMessageContaining("join/w1.key does not belong to join/w1.crt");
        // Without the public key, the right key is still recognised (by a signature).
        Files.writeString(store.resolve("join/w1.key"), noPublicKey(openssl, loaded.joinCertificates().get("w1").privateKeyPem()));
        assertThat(SecretsStore.load(store, KeyAlgorithm.RSA_2048).joinCertificates().get("w1").certificate())
                .isEqualTo(loaded.joinCertificates().get("w1").certificate());
    }

    /** The key rewritten by {@code openssl ec -no_public}: SEC1 without its optional public key. */
    String noPublicKey(String openssl, String pem) throws Exception {
        Path in = Files.writeString(dir.resolve("with-public.key"), pem);
        ProcessResult result = run(openssl, "ec", "-no_public", "-in", in.toString());
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result.stdout();
    }

    @Test
    void aJoinCertificateIssueInterruptedBeforeItsRenamesIsDroppedByTheNextLoad() throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, BAKE, new SecureRandom()), store);
        ClusterSecrets loaded = SecretsStore.load(store, KeyAlgorithm.ECDSA_P256);
        ClusterSecrets next = loaded.withJoinCertificatesFor(List.of("w1"), BAKE, new SecureRandom());
        Files.createDirectories(store.resolve("join"));
        Files.writeString(store.resolve("join/w1.key.new"), next.joinCertificates().get("w1").privateKeyPem());
        assertThat(SecretsStore.load(store, KeyAlgorithm.ECDSA_P256).joinCertificates()).isEmpty();
        assertThat(store.resolve("join/w1.key.new")).doesNotExist();
    }
}
