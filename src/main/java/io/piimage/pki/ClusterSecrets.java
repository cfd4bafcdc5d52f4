package io.piimage.pki;

import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything secret about one cluster, made once and kept in the secrets directory.
 *
 * @param generation   16 hex characters made with the secrets; names cloud-init instance ids
 * @param admin        the operator's client certificate: CN kubernetes-admin, O kubeadm:cluster-admins
 * @param etcdClient   a clientAuth certificate of the etcd CA, with which nodes take the join lock in etcd
 * @param vrrpPassword keepalived's PASS authentication (VRRP uses at most 8 characters)
 * @param hostKeys     each node's SSH host keys by node name (nodes of every plan baked with these secrets)
 * @param joinCertificates each Kubernetes node's join certificate by node name: a short-lived client
 *                     certificate in kubeadm's bootstrappers group that its card carries in a discovery
 *                     kubeconfig, so that a card baked any time later joins without a bootstrap token
 */
public record ClusterSecrets(
        KeyAlgorithm keyAlgorithm,
        String generation,
        KeyAndCertificate ca,
        KeyAndCertificate frontProxyCa,
        KeyAndCertificate etcdCa,
        KeyPair serviceAccount,
        BootstrapToken bootstrapToken,
        KeyAndCertificate admin,
        KeyAndCertificate etcdClient,
        String vrrpPassword,
        SortedMap<String, SshHostKeys> hostKeys,
        SortedMap<String, KeyAndCertificate> joinCertificates) {

    public static final String ADMIN_CN = "kubernetes-admin";
    public static final String ADMIN_GROUP = "kubeadm:cluster-admins";
    public static final String ETCD_CLIENT_CN = "piimage-join-coordinator";
    /** Leaf certificates that expire within this are re-issued by the next bake. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(90);
    /**
     * A join certificate with less than this left is re-issued by the next bake: every card leaves a
     * bake with at least three weeks to join in, and two bakes within a week give identical cards.
     */
    public static final Duration JOIN_RENEW_BEFORE = Duration.ofDays(21);
    private static final String PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static ClusterSecrets generate(KeyAlgorithm algorithm, Instant now, SecureRandom random) {
        byte[] generation = new byte[8];
        random.nextBytes(generation);
        // Six independent key pairs: generating RSA keys is nearly all of a first bake's time, so
        // spread it over every core.
        List<KeyPair> keys = Certificates.generateKeyPairs(algorithm, 6, random);
        KeyAndCertificate ca = Certificates.newCertificateAuthority("kubernetes", keys.get(0), algorithm, now, random);
        KeyAndCertificate frontProxyCa = Certificates.newCertificateAuthority("front-proxy-ca", keys.get(1), algorithm, now, random);
        KeyAndCertificate etcdCa = Certificates.newCertificateAuthority("etcd-ca", keys.get(2), algorithm, now, random);
        KeyPair serviceAccount = keys.get(3);
        KeyAndCertificate admin = Certificates.newClientCertificate(ca, ADMIN_CN, List.of(ADMIN_GROUP), keys.get(4), algorithm, now, random);
        KeyAndCertificate etcdClient = Certificates.newClientCertificate(etcdCa, ETCD_CLIENT_CN, List.of(), keys.get(5), algorithm, now, random);
        StringBuilder password = new StringBuilder(8);
        for (int i = 0; i < 8; i++) {
            password.append(PASSWORD_ALPHABET.charAt(random.nextInt(PASSWORD_ALPHABET.length())));
        }
        return new ClusterSecrets(algorithm, HexFormat.of().formatHex(generation), ca, frontProxyCa, etcdCa,
                serviceAccount, BootstrapToken.random(random), admin, etcdClient, password.toString(), new TreeMap<>(), new TreeMap<>());
    }

    public ClusterSecrets {
        hostKeys = Collections.unmodifiableSortedMap(new TreeMap<>(hostKeys));
        joinCertificates = Collections.unmodifiableSortedMap(new TreeMap<>(joinCertificates));
    }

    /** These secrets with SSH host keys made for every node in {@code nodes} that has none yet. */
    public ClusterSecrets withHostKeysFor(Collection<String> nodes, SecureRandom random) {
        List<String> missing = nodes.stream().filter(n -> !hostKeys.containsKey(n)).distinct().toList();
        if (missing.isEmpty()) {
            return this;
        }
        SortedMap<String, SshHostKeys> all = new TreeMap<>(hostKeys);
        missing.forEach(node -> all.put(node, SshHostKeys.generate(node, random)));
        return new ClusterSecrets(keyAlgorithm, generation, ca, frontProxyCa, etcdCa, serviceAccount, bootstrapToken,
                admin, etcdClient, vrrpPassword, all, joinCertificates);
    }

    /**
     * These secrets with a join certificate for every node in {@code nodes} that has none, or whose
     * certificate has less than {@link #JOIN_RENEW_BEFORE} left at {@code now} (each with a new key).
     * Other nodes' certificates stay as they are (they may belong to another plan of the cluster).
     */
    public ClusterSecrets withJoinCertificatesFor(Collection<String> nodes, Instant now, SecureRandom random) {
        List<String> due = nodes.stream().distinct().filter(node -> {
            KeyAndCertificate current = joinCertificates.get(node);
            return current == null || !current.certificate().getNotAfter().toInstant().isAfter(now.plus(JOIN_RENEW_BEFORE));
        }).toList();
        // One key per node: on a first bake these are most of the key generation, so they are made in parallel.
        Map<String, KeyAndCertificate> fresh = due.parallelStream().collect(java.util.stream.Collectors.toMap(
                node -> node, node -> Certificates.newJoinCertificate(ca, node, now, random)));
        SortedMap<String, KeyAndCertificate> all = new TreeMap<>(joinCertificates);
        all.putAll(fresh);
        boolean changed = !fresh.isEmpty();
        return changed ? new ClusterSecrets(keyAlgorithm, generation, ca, frontProxyCa, etcdCa, serviceAccount, bootstrapToken,
                admin, etcdClient, vrrpPassword, hostKeys, all) : this;
    }

    /**
     * The discovery kubeconfig of {@code node}'s card (kubeadm's {@code discovery.file}): the endpoint,
     * the cluster CA it trusts, and the node's join certificate as its credentials.
     */
    public String joinKubeconfig(String node, String clusterName, String serverUrl) {
        KeyAndCertificate join = joinCertificates.get(node);
        if (join == null) {
            throw new IllegalStateException("no join certificate for " + node);
        }
        return Kubeconfig.render(clusterName, serverUrl, ca.certificate(), join, "piimage-join-" + node);
    }

    /**
     * These secrets with every leaf certificate (admin, etcd-client) that expires within
     * {@link #RENEW_BEFORE} of {@code now} re-issued by its CA, with a new key: a renewal also retires the
     * key of every copy of the old admin.conf. The CAs themselves (10 years) are never re-issued here.
     */
    public ClusterSecrets withLeavesRenewed(Instant now, SecureRandom random) {
        return withLeaves(now, random, false);
    }

    /**
     * These secrets with both leaf certificates (admin, etcd-client) re-issued now by their CAs, whatever
     * their dates, each with a new key: {@code piimage renew}, e.g. after a copy of admin.conf was lost.
     */
    public ClusterSecrets withLeavesReissued(Instant now, SecureRandom random) {
        return withLeaves(now, random, true);
    }

    private ClusterSecrets withLeaves(Instant now, SecureRandom random, boolean all) {
        KeyAndCertificate newAdmin = all || expiresSoon(admin, now)
                ? Certificates.newClientCertificate(ca, ADMIN_CN, List.of(ADMIN_GROUP), keyAlgorithm, now, random)
                : admin;
        KeyAndCertificate newEtcdClient = all || expiresSoon(etcdClient, now)
                ? Certificates.newClientCertificate(etcdCa, ETCD_CLIENT_CN, List.of(), keyAlgorithm, now, random)
                : etcdClient;
        if (newAdmin == admin && newEtcdClient == etcdClient) {
            return this;
        }
        return new ClusterSecrets(keyAlgorithm, generation, ca, frontProxyCa, etcdCa, serviceAccount, bootstrapToken,
                newAdmin, newEtcdClient, vrrpPassword, hostKeys, joinCertificates);
    }

    /**
     * What a bake warns about: a CA of the cluster that ends within {@link #RENEW_BEFORE} of {@code now}
     * (or has ended). Leaves are re-issued by the bake itself; a CA cannot be, since every node trusts it.
     */
    public List<String> expiryWarnings(Instant now) {
        List<String> warnings = new java.util.ArrayList<>();
        java.util.Map<String, KeyAndCertificate> cas = new java.util.LinkedHashMap<>();
        cas.put("ca.crt (the cluster CA)", ca);
        cas.put("front-proxy-ca.crt", frontProxyCa);
        cas.put("etcd/ca.crt (the etcd CA)", etcdCa);
        cas.forEach((name, authority) -> {
            if (expiresSoon(authority, now)) {
                Instant end = authority.certificate().getNotAfter().toInstant();
                long days = Duration.between(now, end).toDays();
                warnings.add(name + (end.isAfter(now) ? " expires on " + end + ", in " + days + " days" : " expired on " + end)
                        + ": piimage does not renew CAs (every node trusts this one); plan a new cluster, or renew it "
                        + "on the nodes with kubeadm's manual CA rotation");
            }
        });
        return warnings;
    }

    static boolean expiresSoon(KeyAndCertificate leaf, Instant now) {
        return !leaf.certificate().getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE));
    }

    /** kubeadm's discovery hash of the cluster CA. */
    public String caCertHash() {
        return Certificates.caCertHash(ca.certificate());
    }

    @Override
    public String toString() {
        // Never print keys or the token by accident (logs, exceptions).
        return "ClusterSecrets[" + keyAlgorithm + ", generation " + generation + "]";
    }
}
