package io.piimage.pki;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** A kubeconfig laid out as kubeadm writes admin.conf, with the certificates embedded. */
public final class Kubeconfig {

    private Kubeconfig() {
    }

    public static String render(String clusterName, String serverUrl, X509Certificate ca, KeyAndCertificate client, String userName) {
        String context = userName + "@" + clusterName;
        return "apiVersion: v1\n"
                + "clusters:\n"
                + "- cluster:\n"
                + "    certificate-authority-data: " + base64(Pem.certificate(ca)) + "\n"
                + "    server: " + serverUrl + "\n"
                + "  name: " + clusterName + "\n"
                + "contexts:\n"
                + "- context:\n"
                + "    cluster: " + clusterName + "\n"
                + "    user: " + userName + "\n"
                + "  name: " + context + "\n"
                + "current-context: " + context + "\n"
                + "kind: Config\n"
                + "preferences: {}\n"
                + "users:\n"
                + "- name: " + userName + "\n"
                + "  user:\n"
                + "    client-certificate-data: " + base64(client.certificatePem()) + "\n"
                + "    client-key-data: " + base64(client.privateKeyPem()) + "\n";
    }

    private static String base64(String pem) {
        return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
    }
}
