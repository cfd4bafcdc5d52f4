package io.piimage.pki;

/** The key types kubeadm can use for the cluster's PKI (ClusterConfiguration.encryptionAlgorithm). */
public enum KeyAlgorithm {
    RSA_2048("rsa-2048", "RSA-2048"),
    RSA_3072("rsa-3072", "RSA-3072"),
    RSA_4096("rsa-4096", "RSA-4096"),
    ECDSA_P256("ecdsa-p256", "ECDSA-P256"),
    ECDSA_P384("ecdsa-p384", "ECDSA-P384");

    private final String key;
    private final String kubeadmName;

    KeyAlgorithm(String key, String kubeadmName) {
        this.key = key;
        this.kubeadmName = kubeadmName;
    }

    /** The plan's spelling. */
    public String key() {
        return key;
    }

    /** The value of kubeadm's ClusterConfiguration.encryptionAlgorithm. */
    public String kubeadmName() {
        return kubeadmName;
    }

    public boolean isRsa() {
        return key.startsWith("rsa");
    }

    public static KeyAlgorithm fromKey(String key) {
        for (KeyAlgorithm algorithm : values()) {
            if (algorithm.key.equals(key)) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException("unknown key algorithm '" + key + "'");
    }

    @Override
    public String toString() {
        return key;
    }
}
