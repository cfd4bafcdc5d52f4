package io.piimage.pki;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * PEM in the forms kubeadm itself writes: certificates, RSA keys as PKCS#1 "RSA PRIVATE KEY", EC keys
 * as SEC1 "EC PRIVATE KEY", public keys as PKIX "PUBLIC KEY". Conversion uses BouncyCastle's ASN.1
 * classes only; keys are handled by the JDK's providers.
 */
public final class Pem {

    private Pem() {
    }

    public static String certificate(X509Certificate certificate) {
        try {
            return encode("CERTIFICATE", certificate.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode certificate", e);
        }
    }

    public static String privateKey(PrivateKey key) {
        return privateKey(key, null);
    }

    /**
     * Like {@link #privateKey(PrivateKey)}; an EC key also carries {@code publicKey} (SEC1's optional
     * public key field, which openssl writes too), so that reading it back needs no curve arithmetic to
     * tell which certificate it belongs to.
     */
    public static String privateKey(PrivateKey key, PublicKey publicKey) {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        ASN1ObjectIdentifier algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
        try {
            if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
                return encode("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded());
            }
            if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
                // SEC1 carries the curve in its parameters field, as openssl and Go write it.
                ECPrivateKey sec1 = ECPrivateKey.getInstance(info.parsePrivateKey());
                ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
                int orderBits = ((java.security.interfaces.ECPrivateKey) key).getParams().getOrder().bitLength();
                byte[] point = sec1.getPublicKey() != null ? sec1.getPublicKey().getOctets()
                        : publicKey != null ? publicKeyBits(publicKey) : null;
                ECPrivateKey withCurve = point == null
                        ? new ECPrivateKey(orderBits, sec1.getKey(), curve)
                        : new ECPrivateKey(orderBits, sec1.getKey(), new org.bouncycastle.asn1.DERBitString(point), curve);
                return encode("EC PRIVATE KEY", withCurve.getEncoded());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode private key", e);
        }
        throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm());
    }

    /** The key bits of a public key's SubjectPublicKeyInfo (for EC, the encoded point). */
    static byte[] publicKeyBits(PublicKey key) {
        return SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getOctets();
    }

    /** The public key an "EC PRIVATE KEY" block carries beside its private scalar, or null (none, or another type). */
    static byte[] embeddedPublicKeyBits(String pem) {
        try {
            if (!"EC PRIVATE KEY".equals(blockType(pem))) {
                return null;
            }
            ECPrivateKey sec1 = ECPrivateKey.getInstance(decode(pem, "EC PRIVATE KEY"));
            return sec1.getPublicKey() == null ? null : sec1.getPublicKey().getOctets();
        } catch (IllegalArgumentException e) {
            return null; // not SEC1: readPrivateKey says what is wrong with it
        }
    }

    public static String publicKey(PublicKey key) {
        return encode("PUBLIC KEY", key.getEncoded());
    }

    public static X509Certificate readCertificate(String pem) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(decode(pem, "CERTIFICATE")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid certificate: " + e.getMessage(), e);
        }
    }

    /** Reads "RSA PRIVATE KEY", "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY". */
    public static PrivateKey readPrivateKey(String pem) {
        String type = blockType(pem);
        byte[] der = decode(pem, type);
        try {
            return switch (type) {
                case "PRIVATE KEY" -> {
                    PrivateKeyInfo info = PrivateKeyInfo.getInstance(der);
                    String algorithm = info.getPrivateKeyAlgorithm().getAlgorithm().equals(PKCSObjectIdentifiers.rsaEncryption) ? "RSA" : "EC";
                    yield KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                }
                case "RSA PRIVATE KEY" -> {
                    PrivateKeyInfo info = new PrivateKeyInfo(
                            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE),
                            org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der));
                    yield KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
                }
                case "EC PRIVATE KEY" -> {
                    ECPrivateKey sec1 = ECPrivateKey.getInstance(der);
                    PrivateKeyInfo info = new PrivateKeyInfo(
                            new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, sec1.getParametersObject()), sec1);
                    yield KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
                }
                default -> throw new IllegalArgumentException("unsupported PEM block '" + type + "'");
            };
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid " + type + ": " + e.getMessage(), e);
        }
    }

    public static PublicKey readPublicKey(String pem, String algorithm) {
        try {
            return KeyFactory.getInstance(algorithm)
                    .generatePublic(new java.security.spec.X509EncodedKeySpec(decode(pem, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid public key: " + e.getMessage(), e);
        }
    }

    static String encode(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static String blockType(String pem) {
        int begin = pem.indexOf("-----BEGIN ");
        int end = begin < 0 ? -1 : pem.indexOf("-----", begin + 11);
        if (begin < 0 || end < 0) {
            throw new IllegalArgumentException("no PEM block found");
        }
        return pem.substring(begin + 11, end);
    }

    static byte[] decode(String pem, String type) {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("no " + type + " PEM block found");
        }
        String body = pem.substring(from + begin.length(), to).replaceAll("\\s", "");
        return Base64.getDecoder().decode(body.getBytes(StandardCharsets.US_ASCII));
    }
}
