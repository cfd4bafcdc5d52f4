package io.piimage.status;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Serving certificates for the test's stand-in apiserver and real etcd, signed by the CAs a bake
 * created (read from its secrets directory): what kubeadm would issue on a control plane.
 */
final class TestCertificates {

    record Issued(String certificatePem, String keyPem, X509Certificate certificate) {
    }

    private TestCertificates() {
    }

    static Issued issue(String caCertificatePem, String caKeyPem, String commonName, List<String> ips, Duration validity)
            throws Exception {
        X509Certificate ca = TlsIdentity.certificates(caCertificatePem).get(0);
        PrivateKey caKey = TlsIdentity.privateKey(caKeyPem);
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)),
                new X500Name("CN=" + commonName), pair.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        GeneralName[] names = new GeneralName[ips.size() + 1];
        for (int i = 0; i < ips.size(); i++) {
            names[i] = new GeneralName(GeneralName.iPAddress, ips.get(i));
        }
        names[ips.size()] = new GeneralName(GeneralName.dNSName, commonName);
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        String algorithm = caKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(caKey)));
        // PKCS#8 ("PRIVATE KEY"): the JDK's EC key written as SEC1 would lose its curve.
        String key = "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                        .encodeToString(pair.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        return new Issued(pem(certificate), key, certificate);
    }

    static String pem(Object object) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
