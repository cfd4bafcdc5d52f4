package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CertificatesTest {

    static final Instant NOW = Instant.parse("2026-11-01T00:00:00Z");
    static final SecureRandom RANDOM = new SecureRandom();

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void caFollowsKubeadmsProfile(KeyAlgorithm algorithm) throws Exception {
        KeyAndCertificate ca = Certificates.newCertificateAuthority("etcd-ca", algorithm, NOW, RANDOM);
        X509Certificate cert = ca.certificate();
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=etcd-ca");
        assertThat(cert.getIssuerX500Principal()).isEqualTo(cert.getSubjectX500Principal());
        assertThat(cert.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
        assertThat(cert.getCriticalExtensionOIDs()).contains("2.5.29.15", "2.5.29.19");
        // digitalSignature(0), keyEncipherment(2), keyCertSign(5)
        boolean[] usage = cert.getKeyUsage();
        assertThat(usage[0]).isTrue();
        assertThat(usage[2]).isTrue();
        assertThat(usage[5]).isTrue();
        assertThat(usage[1] || usage[3] || usage[4] || usage[6]).isFalse();
        assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(2, "etcd-ca"));
        assertThat(cert.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(5)));
        assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(3650)));
        assertThat(cert.getSerialNumber().signum()).isPositive();
        assertThat(cert.getSerialNumber().bitLength()).isGreaterThanOrEqualTo(63);
        assertThat(Certificates.algorithmOf(cert.getPublicKey())).isEqualTo(algorithm);
        assertThat(cert.getSigAlgName()).isEqualTo(switch (algorithm) {
            case ECDSA_P256 -> "SHA256withECDSA";
            case ECDSA_P384 -> "SHA384withECDSA";
            default -> "SHA256withRSA";
        });
        cert.verify(cert.getPublicKey());
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"RSA_2048", "ECDSA_P256"})
    void clientCertificateIsForClientAuthOnlyAndChains(KeyAlgorithm algorithm) throws Exception {
        KeyAndCertificate ca = Certificates.newCertificateAuthority("kubernetes", algorithm, NOW, RANDOM);
        KeyAndCertificate admin = Certificates.newClientCertificate(ca, "kubernetes-admin", List.of("kubeadm:cluster-admins"),
                algorithm, NOW, RANDOM);
        X509Certificate cert = admin.certificate();
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=kubernetes-admin,O=kubeadm:cluster-admins");
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getKeyUsage()[5]).isFalse();
        assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(365)));
        cert.verify(ca.certificate().getPublicKey());
        assertThat(Certificates.matches(cert, admin.privateKey())).isTrue();
        assertThat(Certificates.matches(cert, ca.privateKey())).isFalse();
    }

    @Test
    void servingCertificateCarriesItsSans() throws Exception {
        KeyAndCertificate ca = Certificates.newCertificateAuthority("etcd-ca", KeyAlgorithm.ECDSA_P256, NOW, RANDOM);
        X509Certificate cert = Certificates.newServingCertificate(ca, "e1", List.of("e1", "localhost"), List.of("127.0.0.1"),
                KeyAlgorithm.ECDSA_P256, NOW, RANDOM).certificate();
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(2, "e1"), List.of(2, "localhost"), List.of(7, "127.0.0.1"));
    }

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void pemRoundTripsInKubeadmsKeyFormats(KeyAlgorithm algorithm) {
        KeyAndCertificate ca = Certificates.newCertificateAuthority("kubernetes", algorithm, NOW, RANDOM);
        String keyPem = ca.privateKeyPem();
        assertThat(keyPem).startsWith(algorithm.isRsa() ? "-----BEGIN RSA PRIVATE KEY-----\n" : "-----BEGIN EC PRIVATE KEY-----\n");
        java.security.PrivateKey back = Pem.readPrivateKey(keyPem);
        if (algorithm.isRsa()) {
            var rsa = (java.security.interfaces.RSAPrivateCrtKey) ca.privateKey();
            var rsaBack = (java.security.interfaces.RSAPrivateCrtKey) back;
            assertThat(rsaBack.getModulus()).isEqualTo(rsa.getModulus());
            assertThat(rsaBack.getPrivateExponent()).isEqualTo(rsa.getPrivateExponent());
        } else {
            // SEC1 carries the curve inside the key, so the PKCS#8 bytes differ; the key itself must not.
            assertThat(((java.security.interfaces.ECPrivateKey) back).getS())
                    .isEqualTo(((java.security.interfaces.ECPrivateKey) ca.privateKey()).getS());
            assertThat(((java.security.interfaces.ECPrivateKey) back).getParams().getOrder())
                    .isEqualTo(((java.security.interfaces.ECPrivateKey) ca.privateKey()).getParams().getOrder());
        }
        assertThat(Certificates.matches(ca.certificate(), back)).isTrue();
        assertThat(Pem.readCertificate(ca.certificatePem())).isEqualTo(ca.certificate());
        assertThat(keyPem.lines().filter(l -> !l.startsWith("-----")).allMatch(l -> l.length() <= 64)).isTrue();
    }

    @Test
    void bootstrapTokenHasKubeadmsFormat() {
        for (int i = 0; i < 50; i++) {
            assertThat(BootstrapToken.random(RANDOM).toString()).matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$");
        }
        assertThat(BootstrapToken.parse("abcdef.0123456789abcdef\n")).isEqualTo(new BootstrapToken("abcdef", "0123456789abcdef"));
        assertThatThrownBy(() -> BootstrapToken.parse("ABCDEF.0123456789abcdef")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void clusterSecretsNeverPrintTheirKeys() {
        ClusterSecrets secrets = ClusterSecrets.generate(KeyAlgorithm.ECDSA_P256, NOW, RANDOM);
        assertThat(secrets.toString()).doesNotContain(secrets.bootstrapToken().secret()).doesNotContain("PRIVATE");
        assertThat(secrets.generation()).matches("[0-9a-f]{16}");
        assertThat(secrets.vrrpPassword()).matches("[A-Za-z0-9]{8}");
        assertThat(secrets.caCertHash()).matches("sha256:[0-9a-f]{64}");
        assertThat(secrets.etcdClient().certificate().getIssuerX500Principal().getName()).isEqualTo("CN=etcd-ca");
        assertThat(secrets.frontProxyCa().certificate().getSubjectX500Principal().getName()).isEqualTo("CN=front-proxy-ca");
    }

    @Test
    void generatingTheSecretsTakes() {
        // Printed, not asserted: performance is measured by bench/bake.sh.
        long start = System.nanoTime();
        ClusterSecrets.generate(KeyAlgorithm.RSA_2048, NOW, RANDOM);
        System.out.printf("ClusterSecrets.generate(rsa-2048) in-process: %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }
}
