package io.piimage.pki;

import io.piimage.util.AtomicWrite;
import io.piimage.util.FileTrees;
import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The secrets directory: created once (atomically, private from the first byte), loaded on every later
 * bake, never regenerated. File names follow kubeadm's ({@code ca.crt}, {@code etcd/ca.key}, ...).
 */
public final class SecretsStore {

    static final int FORMAT = 1;
    static final String PROPERTIES = "secrets.properties";
    /** {@code ssh/<node>/ssh_host_<type>_key} and {@code .pub}: every node's SSH host keys. */
    static final String HOST_KEYS = "ssh";
    /** {@code join/<node>.crt} and {@code .key}: every Kubernetes node's join certificate (see ClusterSecrets). */
    static final String JOIN = "join";
    /** Leaf certificates a bake re-issues when they come close to expiring. */
    static final List<String> LEAVES = List.of("admin", "etcd-client");

    /** Every file a complete directory has, in the order they are written. */
    static final List<String> FILES = List.of(
            "ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key",
            "sa.key", "sa.pub", "bootstrap-token", "admin.crt", "admin.key", "etcd-client.crt", "etcd-client.key",
            "vrrp-password", PROPERTIES);

    private static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

    private SecretsStore() {
    }

    /** True when {@code dir} exists and holds anything: then it must be loaded, never overwritten. */
    public static boolean exists(Path dir) throws java.io.UncheckedIOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isPresent();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + dir + ": " + reason(e), e);
        }
    }

    /** Why an operation failed, in words: for a refused permission Java names only the file. */
    private static String reason(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied (the secrets belong to another user, or their modes do not let this user read them)";
        }
        return e.getMessage();
    }

    public static ClusterSecrets load(Path dir, KeyAlgorithm expected) throws SecretsException {
        if (!Files.isDirectory(dir)) {
            throw new SecretsException(dir + " is not a directory");
        }
        if (!Files.isReadable(dir) || !Files.isExecutable(dir)) {
            // Otherwise every file would look missing, and the advice would be to restore a backup.
            throw new SecretsException("cannot read " + dir + ": " + reason(new java.nio.file.AccessDeniedException(dir.toString())));
        }
        List<String> missing = FILES.stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
        if (!missing.isEmpty()) {
            throw new SecretsException("the secrets directory is incomplete: missing " + String.join(", ", missing)
                    + ". Restore it from your backup; piimage does not regenerate secrets, because new CAs would not "
                    + "match the cluster's nodes");
        }
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(read(dir, PROPERTIES)));
        } catch (IOException e) {
            throw new SecretsException("cannot read " + PROPERTIES + ": " + e.getMessage(), e);
        }
        String format = properties.getProperty("format");
        if (!String.valueOf(FORMAT).equals(format)) {
            throw new SecretsException(PROPERTIES + " has format '" + format + "'; this piimage reads format " + FORMAT);
        }
        KeyAlgorithm algorithm;
        try {
            algorithm = KeyAlgorithm.fromKey(properties.getProperty("keyAlgorithm", ""));
        } catch (IllegalArgumentException e) {
            throw new SecretsException(PROPERTIES + ": " + e.getMessage());
        }
        if (algorithm != expected) {
            throw new SecretsException("the secrets were made with keyAlgorithm " + algorithm + " but the plan says "
                    + expected + "; the key algorithm of an existing cluster cannot change (set cluster.keyAlgorithm: "
                    + algorithm + ", or use another --secrets directory for a new cluster)");
        }
        for (String leaf : LEAVES) {
            finishInterruptedRenewal(dir, leaf);
        }
        String generation = properties.getProperty("generation", "");
        if (!generation.matches("[0-9a-f]{16}")) {
            throw new SecretsException(PROPERTIES + ": generation '" + generation + "' is not 16 hex digits");
        }
        try {
            KeyAndCertificate ca = pair(dir, "ca", algorithm);
            KeyAndCertificate frontProxyCa = pair(dir, "front-proxy-ca", algorithm);
            KeyAndCertificate etcdCa = pair(dir, "etcd/ca", algorithm);
            KeyAndCertificate admin = pair(dir, "admin", algorithm);
            KeyAndCertificate etcdClient = pair(dir, "etcd-client", algorithm);
            PrivateKey saPrivate = Pem.readPrivateKey(read(dir, "sa.key"));
            PublicKey saPublic = Pem.readPublicKey(read(dir, "sa.pub"), saPrivate.getAlgorithm().equals("RSA") ? "RSA" : "EC");
            if (Certificates.algorithmOf(saPublic) != algorithm || !Certificates.sameKeyPair(saPublic, saPrivate)) {
                throw new SecretsException("sa.key and sa.pub are not one " + algorithm + " key pair");
            }
            BootstrapToken token;
            try {
                token = BootstrapToken.parse(read(dir, "bootstrap-token"));
            } catch (IllegalArgumentException e) {
                throw new SecretsException("bootstrap-token: " + e.getMessage());
            }
            String password = read(dir, "vrrp-password").strip();
            if (!password.matches("[A-Za-z0-9]{8}")) {
                throw new SecretsException("vrrp-password must be 8 letters or digits");
            }
            verifyIssuer(admin, ca, "admin.crt", "ca.crt");
            verifyIssuer(etcdClient, etcdCa, "etcd-client.crt", "etcd/ca.crt");
            return new ClusterSecrets(algorithm, generation, ca, frontProxyCa, etcdCa, new KeyPair(saPublic, saPrivate),
                    token, admin, etcdClient, password, loadHostKeys(dir), loadJoinCertificates(dir, algorithm, ca));
        } catch (IllegalArgumentException e) {
            throw new SecretsException(e.getMessage(), e);
        }
    }

    /**
     * A renewal replaces a leaf's key and certificate one after the other (see {@link #update}): key.new
     * is complete before crt.new exists, and key.new is renamed first. So a leftover key.new means the old
     * pair is untouched (drop the new files); a leftover crt.new alone means the key is already the new
     * one (finish by renaming the certificate).
     */
    private static void finishInterruptedRenewal(Path dir, String leaf) throws SecretsException {
        Path keyNew = dir.resolve(leaf + ".key.new");
        Path crtNew = dir.resolve(leaf + ".crt.new");
        try {
            if (Files.exists(keyNew, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(keyNew);
                Files.deleteIfExists(crtNew);
            } else if (Files.exists(crtNew, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(crtNew, dir.resolve(leaf + ".crt"), StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new SecretsException("cannot finish the interrupted renewal of " + leaf + ".crt: " + e.getMessage(), e);
        }
    }

    /** {@code join/}: absent in secrets made before join certificates were (the next bake adds them). */
    private static SortedMap<String, KeyAndCertificate> loadJoinCertificates(Path dir, KeyAlgorithm algorithm, KeyAndCertificate ca)
            throws SecretsException {
        SortedMap<String, KeyAndCertificate> all = new TreeMap<>();
        Path root = dir.resolve(JOIN);
        if (!Files.isDirectory(root)) {
            return all;
        }
        java.util.SortedSet<String> nodes = new java.util.TreeSet<>();
        try (Stream<Path> list = Files.list(root)) {
            list.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .map(n -> n.replaceFirst("\\.(crt|key)(\\.new)?$", "")).forEach(nodes::add);
        } catch (IOException e) {
            throw new SecretsException("cannot read " + JOIN + "/: " + e.getMessage(), e);
        }
        for (String node : nodes) {
            String name = JOIN + "/" + node;
            finishInterruptedRenewal(dir, name);
            if (!Files.isRegularFile(dir.resolve(name + ".crt")) || !Files.isRegularFile(dir.resolve(name + ".key"))) {
                continue; // an interrupted first issue: the next bake issues it again
            }
            // ECDSA P-256, or the cluster's algorithm: join certificates made before they were always ECDSA had that.
            KeyAndCertificate join = pair(dir, name, java.util.EnumSet.of(Certificates.JOIN_KEY_ALGORITHM, algorithm));
            verifyIssuer(join, ca, name + ".crt", "ca.crt");
            all.put(node, join);
        }
        return all;
    }

    private static SortedMap<String, SshHostKeys> loadHostKeys(Path dir) throws SecretsException {
        SortedMap<String, SshHostKeys> all = new TreeMap<>();
        Path root = dir.resolve(HOST_KEYS);
        if (!Files.isDirectory(root)) {
            return all; // secrets made before host keys were: the next bake adds them
        }
        List<Path> nodes;
        try (Stream<Path> list = Files.list(root)) {
            nodes = list.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new SecretsException("cannot read " + HOST_KEYS + "/: " + e.getMessage(), e);
        }
        for (Path nodeDir : nodes) {
            String node = nodeDir.getFileName().toString();
            List<SshHostKeys.Key> keys = new ArrayList<>();
            for (String type : SshHostKeys.TYPES) {
                String name = HOST_KEYS + "/" + node + "/ssh_host_" + type + "_key";
                if (!Files.isRegularFile(dir.resolve(name)) || !Files.isRegularFile(dir.resolve(name + ".pub"))) {
                    throw new SecretsException(name + " or its .pub is missing. Restore " + HOST_KEYS + "/" + node
                            + " from your backup, or delete it and bake again to give " + node
                            + " new host keys (then its old known_hosts lines no longer match)");
                }
                String privateKey = read(dir, name);
                String publicKey = read(dir, name + ".pub").strip();
                try {
                    byte[] blob = SshHostKeys.publicBlobOfLine(publicKey);
                    if (!java.util.Arrays.equals(blob, SshHostKeys.publicBlobOf(privateKey))) {
                        throw new SecretsException(name + " and " + name + ".pub are not one key pair");
                    }
                    if (!publicKey.startsWith(type.equals("ecdsa") ? "ecdsa-sha2-nistp256 " : "ssh-ed25519 ")) {
                        throw new SecretsException(name + ".pub does not hold an " + type + " key");
                    }
                } catch (IllegalArgumentException e) {
                    throw new SecretsException(name + ": " + e.getMessage(), e);
                }
                keys.add(new SshHostKeys.Key(type, privateKey, publicKey));
            }
            all.put(node, new SshHostKeys(node, keys));
        }
        return all;
    }

    private static KeyAndCertificate pair(Path dir, String name, KeyAlgorithm algorithm) throws SecretsException {
        return pair(dir, name, java.util.Set.of(algorithm));
    }

    private static KeyAndCertificate pair(Path dir, String name, java.util.Set<KeyAlgorithm> algorithms) throws SecretsException {
        X509Certificate certificate;
        PrivateKey key;
        try {
            certificate = Pem.readCertificate(read(dir, name + ".crt"));
        } catch (IllegalArgumentException e) {
            throw new SecretsException(name + ".crt: " + e.getMessage(), e);
        }
        String keyPem = read(dir, name + ".key");
        try {
            key = Pem.readPrivateKey(keyPem);
        } catch (IllegalArgumentException e) {
            throw new SecretsException(name + ".key: " + e.getMessage(), e);
        }
        KeyAlgorithm held = Certificates.algorithmOf(certificate.getPublicKey());
        if (!algorithms.contains(held)) {
            throw new SecretsException(name + ".crt holds a " + held + " key, not "
                    + algorithms.stream().map(String::valueOf).sorted().collect(java.util.stream.Collectors.joining(" or ")));
        }
        // An EC key file written by piimage names its public key: comparing that with the certificate's
        // tells a mixed-up pair as well, without a signature made cold on every re-bake.
        byte[] embedded = Pem.embeddedPublicKeyBits(keyPem);
        boolean belongs = embedded != null
                ? java.util.Arrays.equals(embedded, Pem.publicKeyBits(certificate.getPublicKey()))
                : Certificates.matches(certificate, key);
        if (!belongs) {
            throw new SecretsException(name + ".key does not belong to " + name + ".crt");
        }
        return new KeyAndCertificate(certificate, key);
    }

    private static void verifyIssuer(KeyAndCertificate leaf, KeyAndCertificate issuer, String leafName, String issuerName)
            throws SecretsException {
        try {
            leaf.certificate().verify(issuer.certificate().getPublicKey());
        } catch (java.security.GeneralSecurityException e) {
            throw new SecretsException(leafName + " is not signed by " + issuerName);
        }
    }

    private static String read(Path dir, String name) throws SecretsException {
        try {
            return Files.readString(dir.resolve(name), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new SecretsException("cannot read " + name + ": " + reason(e), e);
        }
    }

    /** Files or directories others can read or write: printed as warnings, since the keys are the cluster's root of trust. */
    public static List<String> permissionProblems(Path dir) {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.toList()) {
                Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
                boolean open = permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"));
                if (open) {
                    problems.add(path + " is accessible to other users (" + PosixFilePermissions.toString(permissions)
                            + "); run: chmod -R go= " + dir);
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            problems.add("cannot check the permissions of " + dir + ": " + e.getMessage());
        }
        return problems.size() > 3 ? List.of(problems.get(0), "... and " + (problems.size() - 1) + " more: run chmod -R go= " + dir) : problems;
    }

    /**
     * Writes a new secrets directory: into a private sibling first, then renamed into place, so a
     * half-written directory never exists under the real name. Refuses to touch an existing one.
     */
    public static void write(ClusterSecrets secrets, Path dir) throws IOException {
        if (exists(dir)) {
            throw new IOException(dir + " already exists; piimage never overwrites secrets");
        }
        Path absolute = dir.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        Path staging = null;
        try {
            staging = staged(absolute, contents(secrets));
            if (Files.isDirectory(absolute) && !exists(absolute)) {
                Files.delete(absolute); // an empty directory the user made for us
            }
            Files.move(staging, absolute, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            FileTrees.deleteQuietly(staging);
        }
    }

    /**
     * A private sibling of {@code target} (".name.tmp-random") holding {@code files}, each forced to
     * disk: renamed into place by the caller, so that a half-written directory never has the real name.
     */
    private static Path staged(Path target, Map<String, String> files) throws IOException {
        // Named after this process, so a bake after a kill can tell the keys in it are nobody's (Leftovers).
        Path staging = target.resolveSibling(io.piimage.sink.Leftovers.name("." + target.getFileName() + ".tmp-"));
        Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        try {
            for (Map.Entry<String, String> file : files.entrySet()) {
                writePrivate(staging, file.getKey(), file.getValue());
            }
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteQuietly(staging);
            throw e;
        }
        return staging;
    }

    /** A new private file (0600, in private directories made as needed), forced to disk. */
    private static void writePrivate(Path root, String name, String content) throws IOException {
        Path path = root.resolve(name);
        List<Path> missing = new ArrayList<>();
        for (Path p = path.getParent(); !p.equals(root) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path p : missing) {
            Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        }
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
    }

    /**
     * Brings an existing directory from {@code before} (what {@link #load} returned) to {@code after}:
     * re-issued leaf certificates and host keys of new nodes. Each step is atomic on its own: a node's
     * host keys appear as one directory renamed into place; a leaf's new key and certificate are
     * renamed over the old ones in an order {@link #load} can finish or undo after a crash. Nothing
     * else is ever rewritten. Returns one line per change, for the operator.
     */
    public static List<String> update(Path dir, ClusterSecrets before, ClusterSecrets after) throws IOException {
        List<String> changes = new ArrayList<>();
        replaceLeaf(dir, "admin", before.admin(), after.admin(), "admin.conf changes with it", changes);
        replaceLeaf(dir, "etcd-client", before.etcdClient(), after.etcdClient(),
                "control planes baked from now on carry the new one", changes);
        List<String> joins = new ArrayList<>();
        for (Map.Entry<String, KeyAndCertificate> join : after.joinCertificates().entrySet()) {
            KeyAndCertificate old = before.joinCertificates().get(join.getKey());
            if (old == null || !old.certificate().equals(join.getValue().certificate())) {
                writeLeaf(dir, JOIN + "/" + join.getKey(), join.getValue());
                joins.add(join.getKey());
            }
        }
        if (!joins.isEmpty()) {
            changes.add("issued join certificates for " + String.join(", ", joins) + " (" + JOIN + "/, valid "
                    + Certificates.JOIN_VALIDITY.toDays() + " days): their cards join with them, no bootstrap token needed");
        }
        List<String> added = new ArrayList<>();
        for (SshHostKeys keys : after.hostKeys().values()) {
            if (!before.hostKeys().containsKey(keys.node())) {
                addHostKeys(dir, keys);
                added.add(keys.node());
            }
        }
        if (!added.isEmpty()) {
            changes.add("added SSH host keys for " + String.join(", ", added) + " (" + HOST_KEYS
                    + "/): their cards carry them and known_hosts lists them");
        }
        return changes;
    }

    private static void replaceLeaf(Path dir, String name, KeyAndCertificate before, KeyAndCertificate after, String effect,
            List<String> changes) throws IOException {
        if (before.certificate().equals(after.certificate())) {
            return;
        }
        writeLeaf(dir, name, after);
        Instant oldEnd = before.certificate().getNotAfter().toInstant();
        // "within 90 days" only where that is why (a bake); renew re-issues whatever the dates.
        boolean due = !oldEnd.isAfter(after.certificate().getNotBefore().toInstant().plus(Certificates.BACKDATE)
                .plus(ClusterSecrets.RENEW_BEFORE));
        changes.add("re-issued " + name + ".crt with a new key: the old one expires " + oldEnd
                + (due ? ", within " + ClusterSecrets.RENEW_BEFORE.toDays() + " days" : "")
                + "; the new one is valid until " + after.certificate().getNotAfter().toInstant() + " (" + effect + ")");
    }

    /**
     * Puts a key and certificate under {@code name} (.key, .crt; replacing any): the new key is written
     * and renamed first, then the certificate, an order {@link #load} can finish or undo after a crash.
     */
    private static void writeLeaf(Path dir, String name, KeyAndCertificate leaf) throws IOException {
        Path keyNew = dir.resolve(name + ".key.new");
        Path crtNew = dir.resolve(name + ".crt.new");
        Files.deleteIfExists(keyNew);
        Files.deleteIfExists(crtNew);
        // name may hold a directory (join/<node>): the files go where the name says.
        writePrivate(dir, name + ".key.new", leaf.privateKeyPem());
        writePrivate(dir, name + ".crt.new", leaf.certificatePem());
        AtomicWrite.replace(keyNew, dir.resolve(name + ".key"));
        AtomicWrite.replace(crtNew, dir.resolve(name + ".crt"));
        forceDirectory(keyNew.getParent());
    }

    private static void addHostKeys(Path dir, SshHostKeys keys) throws IOException {
        Path root = dir.resolve(HOST_KEYS);
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        }
        Path target = root.resolve(keys.node());
        Path staging = null;
        try {
            staging = staged(target, hostKeyFiles(keys));
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(root);
        } finally {
            FileTrees.deleteQuietly(staging);
        }
    }

    private static Map<String, String> hostKeyFiles(SshHostKeys keys) {
        Map<String, String> files = new LinkedHashMap<>();
        for (SshHostKeys.Key key : keys.keys()) {
            files.put(key.fileName(), key.privateKey());
            files.put(key.fileName() + ".pub", key.publicKey() + "\n");
        }
        return files;
    }

    /** fsync of a directory, so that renames in it survive a power cut. */
    private static void forceDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // Not every file system lets a directory be opened for fsync; the renames are still atomic.
        }
    }

    static Map<String, String> contents(ClusterSecrets secrets) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README", """
                This directory holds the secrets of a piimage cluster: its certificate authorities, the
                service-account key, the bootstrap token, the operator's admin certificate and the VRRP
                password, every node's SSH host keys (ssh/) and every Kubernetes node's short-lived join
                certificate (join/, re-issued by bakes as needed). Every bake of the cluster's plan reuses
                them, and every node trusts them.

                Back it up somewhere safe. Do not commit it to version control or share it: anyone with
                these files can administer the cluster.
                """);
        files.put("ca.crt", secrets.ca().certificatePem());
        files.put("ca.key", secrets.ca().privateKeyPem());
        files.put("front-proxy-ca.crt", secrets.frontProxyCa().certificatePem());
        files.put("front-proxy-ca.key", secrets.frontProxyCa().privateKeyPem());
        files.put("etcd/ca.crt", secrets.etcdCa().certificatePem());
        files.put("etcd/ca.key", secrets.etcdCa().privateKeyPem());
        files.put("sa.key", Pem.privateKey(secrets.serviceAccount().getPrivate()));
        files.put("sa.pub", Pem.publicKey(secrets.serviceAccount().getPublic()));
        files.put("bootstrap-token", secrets.bootstrapToken() + "\n");
        files.put("admin.crt", secrets.admin().certificatePem());
        files.put("admin.key", secrets.admin().privateKeyPem());
        files.put("etcd-client.crt", secrets.etcdClient().certificatePem());
        files.put("etcd-client.key", secrets.etcdClient().privateKeyPem());
        files.put("vrrp-password", secrets.vrrpPassword() + "\n");
        for (SshHostKeys keys : secrets.hostKeys().values()) {
            hostKeyFiles(keys).forEach((name, content) -> files.put(HOST_KEYS + "/" + keys.node() + "/" + name, content));
        }
        secrets.joinCertificates().forEach((node, join) -> {
            files.put(JOIN + "/" + node + ".crt", join.certificatePem());
            files.put(JOIN + "/" + node + ".key", join.privateKeyPem());
        });
        files.put(PROPERTIES, "# piimage cluster secrets. Back this directory up; it holds your cluster's root keys.\n"
                + "format=" + FORMAT + "\n"
                + "keyAlgorithm=" + secrets.keyAlgorithm().key() + "\n"
                + "generation=" + secrets.generation() + "\n");
        return files;
    }

}
