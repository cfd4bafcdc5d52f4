package io.piimage.pki;

import java.io.IOException;
import java.io.StringReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The secrets directory: created once (atomically, private from the first byte), loaded on every later
 * bake, never regenerated. File names follow kubeadm's ({@code ca.crt}, {@code etcd/ca.key}, ...).
 */
public final class SecretsStore {

    static final int FORMAT = 1;
    static final String PROPERTIES = "secrets.properties";

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
                    token, admin, etcdClient, password);
        } catch (IllegalArgumentException e) {
            throw new SecretsException(e.getMessage(), e);
        }
    }

    private static KeyAndCertificate pair(Path dir, String name, KeyAlgorithm algorithm) throws SecretsException {
        X509Certificate certificate;
        PrivateKey key;
        try {
            certificate = Pem.readCertificate(read(dir, name + ".crt"));
        } catch (IllegalArgumentException e) {
            throw new SecretsException(name + ".crt: " + e.getMessage(), e);
        }
        try {
            key = Pem.readPrivateKey(read(dir, name + ".key"));
        } catch (IllegalArgumentException e) {
            throw new SecretsException(name + ".key: " + e.getMessage(), e);
        }
        if (Certificates.algorithmOf(certificate.getPublicKey()) != algorithm) {
            throw new SecretsException(name + ".crt holds a " + Certificates.algorithmOf(certificate.getPublicKey())
                    + " key, not " + algorithm);
        }
        if (!Certificates.matches(certificate, key)) {
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
        // Named after this process, so a bake after a kill can tell the keys in it are nobody's (Leftovers).
        Path staging = absolute.resolveSibling(io.piimage.sink.Leftovers.name("." + absolute.getFileName() + ".tmp-"));
        try {
            Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
            Files.createDirectory(staging.resolve("etcd"), PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
            for (Map.Entry<String, String> file : contents(secrets).entrySet()) {
                Path path = staging.resolve(file.getKey());
                Files.createFile(path, PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
                    channel.write(java.nio.ByteBuffer.wrap(file.getValue().getBytes(StandardCharsets.UTF_8)));
                    channel.force(true);
                }
            }
            if (Files.isDirectory(absolute) && !exists(absolute)) {
                Files.delete(absolute); // an empty directory the user made for us
            }
            Files.move(staging, absolute, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteTree(staging);
        }
    }

    static Map<String, String> contents(ClusterSecrets secrets) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("README", """
                This directory holds the secrets of a piimage cluster: its certificate authorities, the
                service-account key, the bootstrap token, the operator's admin certificate and the VRRP
                password. Every bake of the cluster's plan reuses them, and every node trusts them.

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
        files.put(PROPERTIES, "# piimage cluster secrets. Back this directory up; it holds your cluster's root keys.\n"
                + "format=" + FORMAT + "\n"
                + "keyAlgorithm=" + secrets.keyAlgorithm().key() + "\n"
                + "generation=" + secrets.generation() + "\n");
        return files;
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // Best effort clean-up of our own temporary directory after a failure already reported.
        }
    }

}
