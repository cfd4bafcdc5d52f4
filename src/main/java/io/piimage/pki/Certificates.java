package io.piimage.pki;

import io.piimage.util.Sha256;
import io.piimage.util.Threads;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates with kubeadm's profiles (see facts.md): CAs valid 10 years, leaves 1 year, both
 * backdated 5 minutes against clock skew between the operator's machine and a Pi without an RTC.
 * BouncyCastle only builds the certificate structure; keys and signatures come from the JDK's providers
 * (registering BouncyCastle's provider would cost ~200 ms of start-up).
 */
public final class Certificates {

    static final Duration BACKDATE = Duration.ofMinutes(5);
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration LEAF_VALIDITY = Duration.ofDays(365);
    /**
     * A node's join certificate: long enough to flash a set of cards and power them on over a few
     * weekends, short enough that a lost card's credential lapses within a month (see ClusterSecrets).
     */
    public static final Duration JOIN_VALIDITY = Duration.ofDays(28);
    /**
     * The group kubeadm binds its join RBAC to (kubeadm:kubelet-bootstrap, kubeadm:node-autoapprove-bootstrap,
     * kubeadm:get-nodes, the kubeadm-config, kubelet-config and kube-proxy Roles): kube-apiserver makes a
     * client certificate's O its groups, so a certificate with this O is what a bootstrap token is.
     */
    public static final String JOIN_GROUP = "system:bootstrappers:kubeadm:default-node-token";
    /** A join certificate's CN: the node it is for, under a prefix no Kubernetes component gives meaning. */
    public static final String JOIN_CN_PREFIX = "piimage:join:";
    /**
     * A join certificate's key, whatever the cluster's {@code keyAlgorithm}: ECDSA P-256, as the kubelet
     * gives its own client certificates. The key lives 28 days and only joins; RSA keys for every node
     * were half of a first bake's key generation.
     */
    public static final KeyAlgorithm JOIN_KEY_ALGORITHM = KeyAlgorithm.ECDSA_P256;

    private Certificates() {
    }

    public static KeyPair generateKeyPair(KeyAlgorithm algorithm, SecureRandom random) {
        try {
            KeyPairGenerator generator;
            switch (algorithm) {
                case RSA_2048, RSA_3072, RSA_4096 -> {
                    generator = KeyPairGenerator.getInstance("RSA");
                    int bits = Integer.parseInt(algorithm.key().substring(4));
                    generator.initialize(new RSAKeyGenParameterSpec(bits, RSAKeyGenParameterSpec.F4), random);
                }
                case ECDSA_P256, ECDSA_P384 -> {
                    generator = KeyPairGenerator.getInstance("EC");
                    generator.initialize(new ECGenParameterSpec(algorithm == KeyAlgorithm.ECDSA_P256 ? "secp256r1" : "secp384r1"), random);
                }
                default -> throw new IllegalArgumentException("unsupported " + algorithm);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + algorithm + " key", e);
        }
    }

    /** {@code count} key pairs generated concurrently, one task per pair, on up to every core. */
    public static List<KeyPair> generateKeyPairs(KeyAlgorithm algorithm, int count, SecureRandom random) {
        java.util.concurrent.ExecutorService pool = Threads.pool("piimage-keygen", count);
        try {
            List<java.util.concurrent.Future<KeyPair>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(pool.submit(() -> generateKeyPair(algorithm, random)));
            }
            List<KeyPair> keys = new ArrayList<>();
            for (java.util.concurrent.Future<KeyPair> future : futures) {
                keys.add(future.get());
            }
            return keys;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating keys", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("cannot generate " + algorithm + " keys", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** kubeadm's CA profile: CN only, CA:TRUE, keyCertSign, SAN DNS = CN, 10 years. */
    public static KeyAndCertificate newCertificateAuthority(String commonName, KeyAlgorithm algorithm, Instant now, SecureRandom random) {
        return newCertificateAuthority(commonName, generateKeyPair(algorithm, random), algorithm, now, random);
    }

    public static KeyAndCertificate newCertificateAuthority(String commonName, KeyPair keys, KeyAlgorithm algorithm, Instant now,
            SecureRandom random) {
        X500Name subject = name(commonName, List.of());
        X509v3CertificateBuilder builder = builder(subject, subject, keys.getPublic(), now, CA_VALIDITY, random);
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyCertSign));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(keys.getPublic()));
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, commonName)));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        return new KeyAndCertificate(sign(builder, keys.getPrivate(), algorithm), keys.getPrivate());
    }

    /** A client certificate (clientAuth), 1 year, signed by {@code issuer}. */
    public static KeyAndCertificate newClientCertificate(KeyAndCertificate issuer, String commonName, List<String> organizations,
            KeyAlgorithm algorithm, Instant now, SecureRandom random) {
        return newClientCertificate(issuer, commonName, organizations, generateKeyPair(algorithm, random), algorithm, now, random);
    }

    public static KeyAndCertificate newClientCertificate(KeyAndCertificate issuer, String commonName, List<String> organizations,
            KeyPair keys, KeyAlgorithm algorithm, Instant now, SecureRandom random) {
        return leaf(issuer, commonName, organizations, List.of(), List.of(), false, keys, algorithm, now, LEAF_VALIDITY, random);
    }

    /**
     * A node's join certificate (clientAuth, {@link #JOIN_VALIDITY}): CN {@code piimage:join:<node>},
     * O {@link #JOIN_GROUP}, signed by the cluster CA. kubeadm join uses it from its discovery file for
     * discovery and the kubelet's TLS bootstrap, as it would a bootstrap token.
     */
    public static KeyAndCertificate newJoinCertificate(KeyAndCertificate ca, String node, Instant now, SecureRandom random) {
        return leaf(ca, JOIN_CN_PREFIX + node, List.of(JOIN_GROUP), List.of(), List.of(), false,
                generateKeyPair(JOIN_KEY_ALGORITHM, random), JOIN_KEY_ALGORITHM, now, JOIN_VALIDITY, random);
    }

    /** A serving (and peer) certificate with DNS and IP SANs: serverAuth + clientAuth, as etcd members need. */
    public static KeyAndCertificate newServingCertificate(KeyAndCertificate issuer, String commonName, List<String> dnsNames,
            List<String> ipAddresses, KeyAlgorithm algorithm, Instant now, SecureRandom random) {
        return leaf(issuer, commonName, List.of(), dnsNames, ipAddresses, true, generateKeyPair(algorithm, random), algorithm,
                now, LEAF_VALIDITY, random);
    }

    private static KeyAndCertificate leaf(KeyAndCertificate issuer, String commonName, List<String> organizations,
            List<String> dnsNames, List<String> ipAddresses, boolean serving, KeyPair keys, KeyAlgorithm algorithm, Instant now,
            Duration validity, SecureRandom random) {
        X500Name issuerName = X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded());
        X509v3CertificateBuilder builder = builder(issuerName, name(commonName, organizations), keys.getPublic(), now,
                validity, random);
        try {
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            int usage = KeyUsage.digitalSignature | (algorithm.isRsa() ? KeyUsage.keyEncipherment : 0);
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
            builder.addExtension(Extension.extendedKeyUsage, false, serving
                    ? new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
                    : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(issuer.certificate().getPublicKey()));
            List<GeneralName> names = new ArrayList<>();
            dnsNames.forEach(dns -> names.add(new GeneralName(GeneralName.dNSName, dns)));
            for (String ip : ipAddresses) {
                names.add(new GeneralName(GeneralName.iPAddress, ip));
            }
            if (!names.isEmpty()) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        KeyAlgorithm issuerAlgorithm = algorithmOf(issuer.privateKey());
        return new KeyAndCertificate(sign(builder, issuer.privateKey(), issuerAlgorithm), keys.getPrivate());
    }

    /** "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo: kubeadm's --discovery-token-ca-cert-hash. */
    public static String caCertHash(X509Certificate certificate) {
        return "sha256:" + Sha256.hex(certificate.getPublicKey().getEncoded());
    }

    /** Whether a private key belongs to a certificate (same public key). */
    public static boolean matches(X509Certificate certificate, PrivateKey key) {
        return sameKeyPair(certificate.getPublicKey(), key);
    }

    /** Whether a private key and a public key form one pair: a signature by one verifies with the other. */
    static boolean sameKeyPair(PublicKey publicKey, PrivateKey privateKey) {
        // An RSA private key in CRT form (what every RSA key here is) carries its public half: comparing
        // it costs nothing, where a signature costs a private-key operation, run cold on every re-bake.
        if (privateKey instanceof java.security.interfaces.RSAPrivateCrtKey crt
                && publicKey instanceof java.security.interfaces.RSAPublicKey rsa) {
            return crt.getModulus().equals(rsa.getModulus()) && crt.getPublicExponent().equals(rsa.getPublicExponent());
        }
        try {
            byte[] challenge = "piimage key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            String algorithm = privateKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(challenge);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    static KeyAlgorithm algorithmOf(PrivateKey key) {
        if (key instanceof java.security.interfaces.RSAKey rsa) {
            return rsaAlgorithm(rsa.getModulus().bitLength());
        }
        if (key instanceof java.security.interfaces.ECKey ec) {
            return ecAlgorithm(ec.getParams().getOrder().bitLength());
        }
        throw new IllegalArgumentException("unsupported key " + key.getAlgorithm());
    }

    static KeyAlgorithm algorithmOf(PublicKey key) {
        if (key instanceof java.security.interfaces.RSAKey rsa) {
            return rsaAlgorithm(rsa.getModulus().bitLength());
        }
        if (key instanceof java.security.interfaces.ECKey ec) {
            return ecAlgorithm(ec.getParams().getOrder().bitLength());
        }
        throw new IllegalArgumentException("unsupported key " + key.getAlgorithm());
    }

    private static KeyAlgorithm rsaAlgorithm(int bits) {
        return bits > 3072 ? KeyAlgorithm.RSA_4096 : bits > 2048 ? KeyAlgorithm.RSA_3072 : KeyAlgorithm.RSA_2048;
    }

    private static KeyAlgorithm ecAlgorithm(int orderBits) {
        return orderBits > 256 ? KeyAlgorithm.ECDSA_P384 : KeyAlgorithm.ECDSA_P256;
    }

    private static X500Name name(String commonName, List<String> organizations) {
        X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
        organizations.forEach(o -> name.addRDN(BCStyle.O, o));
        name.addRDN(BCStyle.CN, commonName);
        return name.build();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, PublicKey publicKey, Instant now,
            Duration validity, SecureRandom random) {
        // Random positive serial of 63+ bits, as kubeadm (Go's crypto/rand up to 2^63).
        BigInteger serial = new BigInteger(64, random).setBit(62).clearBit(63);
        return new X509v3CertificateBuilder(issuer, serial, Date.from(now.minus(BACKDATE)), Date.from(now.plus(validity)),
                subject, SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()));
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey, KeyAlgorithm algorithm) {
        String signatureAlgorithm = switch (algorithm) {
            case ECDSA_P256 -> "SHA256withECDSA";
            case ECDSA_P384 -> "SHA384withECDSA";
            default -> "SHA256withRSA";
        };
        try {
            ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm).build(signingKey);
            X509CertificateHolder holder = builder.build(signer);
            return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(holder.getEncoded()));
        } catch (OperatorCreationException | GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot sign certificate", e);
        }
    }

    static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
