package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Our certificates and keys as openssl and kubectl read them. */
class PkiRealToolsTest {

    @TempDir
    Path dir;

    ProcessResult openssl(String... args) {
        Path openssl = ExternalTool.require("openssl");
        List<String> command = new java.util.ArrayList<>(List.of(openssl.toString()));
        command.addAll(List.of(args));
        return ExternalTool.run(Duration.ofSeconds(30), command, dir);
    }

    ProcessResult shell(String script) {
        ExternalTool.require("openssl");
        return ExternalTool.run(Duration.ofSeconds(30), List.of("bash", "-c", "set -o pipefail; " + script), dir);
    }

    Path store(KeyAlgorithm algorithm) throws Exception {
        Path store = dir.resolve("s");
        SecretsStore.write(ClusterSecrets.generate(algorithm, Instant.now(), new SecureRandom()), store);
        return store;
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "ECDSA_P256", "ECDSA_P384"})
    void opensslVerifiesTheChainsAndReadsTheProfiles(KeyAlgorithm algorithm) throws Exception {
        Path s = store(algorithm);
        ProcessResult admin = openssl("verify", "-CAfile", s.resolve("ca.crt").toString(), s.resolve("admin.crt").toString());
        assertThat(admin.exitCode()).as(admin.output()).isZero();
        ProcessResult etcd = openssl("verify", "-purpose", "sslclient", "-CAfile", s.resolve("etcd/ca.crt").toString(),
                s.resolve("etcd-client.crt").toString());
        assertThat(etcd.exitCode()).as(etcd.output()).isZero();
        ProcessResult wrong = openssl("verify", "-CAfile", s.resolve("front-proxy-ca.crt").toString(), s.resolve("admin.crt").toString());
        assertThat(wrong.exitCode()).isNotZero();

        String ca = openssl("x509", "-noout", "-text", "-in", s.resolve("ca.crt").toString()).stdout();
        assertThat(ca).contains("Subject: CN = kubernetes", "CA:TRUE",
                "X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment, Certificate Sign",
                "DNS:kubernetes", "X509v3 Subject Key Identifier");
        String adminText = openssl("x509", "-noout", "-text", "-in", s.resolve("admin.crt").toString()).stdout();
        assertThat(adminText).contains("O = kubeadm:cluster-admins, CN = kubernetes-admin", "TLS Web Client Authentication",
                "CA:FALSE");
        ProcessResult dates = openssl("x509", "-noout", "-checkend", String.valueOf(9L * 365 * 24 * 3600), "-in", s.resolve("etcd/ca.crt").toString());
        assertThat(dates.exitCode()).as("etcd CA valid 9+ years").isZero();
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "ECDSA_P256", "ECDSA_P384"})
    void caHashMatchesOpensslOverTheSubjectPublicKeyInfo(KeyAlgorithm algorithm) throws Exception {
        Path s = store(algorithm);
        ClusterSecrets secrets = SecretsStore.load(s, algorithm);
        ProcessResult hash = shell("openssl x509 -pubkey -noout -in " + s.resolve("ca.crt")
                + " | openssl pkey -pubin -outform der | openssl dgst -sha256 -r");
        assertThat(hash.exitCode()).as(hash.output()).isZero();
        assertThat(secrets.caCertHash()).isEqualTo("sha256:" + hash.stdout().split(" ")[0]);
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "ECDSA_P256", "ECDSA_P384"})
    void keysAreWhatOpensslExpectsAndSaPubMatchesSaKey(KeyAlgorithm algorithm) throws Exception {
        Path s = store(algorithm);
        for (String key : List.of("ca.key", "etcd/ca.key", "front-proxy-ca.key", "sa.key", "admin.key", "etcd-client.key")) {
            ProcessResult check = openssl(algorithm.isRsa() ? "rsa" : "ec", "-check", "-noout", "-in", s.resolve(key).toString());
            assertThat(check.exitCode()).as(key + ": " + check.output()).isZero();
        }
        ProcessResult pub = openssl("pkey", "-in", s.resolve("sa.key").toString(), "-pubout");
        assertThat(pub.exitCode()).isZero();
        assertThat(pub.stdout()).isEqualTo(Files.readString(s.resolve("sa.pub")));
        ProcessResult modulus = shell("diff <(openssl x509 -noout -pubkey -in " + s.resolve("ca.crt") + ") <(openssl pkey -pubout -in "
                + s.resolve("ca.key") + ")");
        assertThat(modulus.exitCode()).as("ca.key belongs to ca.crt: " + modulus.output()).isZero();
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "ECDSA_P256"})
    void kubectlReadsTheKubeconfig(KeyAlgorithm algorithm) throws Exception {
        Path kubectl = ExternalTool.require("kubectl");
        ClusterSecrets secrets = ClusterSecrets.generate(algorithm, Instant.now(), new SecureRandom());
        Path conf = Files.writeString(dir.resolve("admin.conf"),
                Kubeconfig.render("makina", "https://192.168.3.240:9000", secrets.ca().certificate(), secrets.admin(), "kubernetes-admin"));
        ProcessResult view = ExternalTool.run(Duration.ofSeconds(30), List.of(kubectl.toString(), "config", "view", "--raw",
                "--kubeconfig", conf.toString(), "-o", "jsonpath={.clusters[0].cluster.server} {.contexts[0].name} "
                        + "{.users[0].user.client-key-data}"), dir);
        assertThat(view.exitCode()).as(view.output()).isZero();
        String[] parts = view.stdout().split(" ");
        assertThat(parts[0]).isEqualTo("https://192.168.3.240:9000");
        assertThat(parts[1]).isEqualTo("kubernetes-admin@makina");
        assertThat(new String(java.util.Base64.getDecoder().decode(parts[2]))).isEqualTo(secrets.admin().privateKeyPem());
    }
}
