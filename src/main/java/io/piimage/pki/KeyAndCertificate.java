package io.piimage.pki;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A certificate and its private key. */
public record KeyAndCertificate(X509Certificate certificate, PrivateKey privateKey) {

    public String certificatePem() {
        return Pem.certificate(certificate);
    }

    public String privateKeyPem() {
        return Pem.privateKey(privateKey, certificate.getPublicKey());
    }
}
