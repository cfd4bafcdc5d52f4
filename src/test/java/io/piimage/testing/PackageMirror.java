package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Debian package mirror made by the test from real .debs of Debian's archive: the packages asked for
 * and every dependency that the base they are for does not already have (apt's own resolver, run against
 * the base's dpkg status), indexed by apt-ftparchive and signed with a key made for this run, which the
 * base must trust. {@link #serve()} serves it over HTTP on 127.0.0.1 only, under {@code /debian}.
 */
public final class PackageMirror implements AutoCloseable {

    private static final Duration APT_TIMEOUT = Duration.ofMinutes(15);

    private final Path root;
    private final String publicKey;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private HttpServer server;

    private PackageMirror(Path root, String publicKey) {
        this.root = root;
        this.publicKey = publicKey;
    }

    /**
     * Builds the mirror of {@code suite} in {@code dir}: {@code packages} and their dependencies missing
     * from {@code baseRootfs} (recommends included, as apt installs them on a card).
     */
    public static PackageMirror build(Path dir, String suite, Path baseRootfs, Collection<String> packages)
            throws IOException {
        for (String tool : List.of("apt-get", "apt-ftparchive", "gpg", "gzip")) {
            ExternalTool.require(tool);
        }
        // DebianPackages' private apt state of the suite (fresh lists); resolved against the base's status.
        Path apt = DebianPackages.aptState(suite);
        Path pool = Files.createDirectories(DebianPackages.cache().resolve("debian").resolve("pool-" + suite));
        Path status = Files.createDirectories(dir.resolve("apt-work")).resolve("status");
        Files.copy(baseRootfs.resolve("var/lib/dpkg/status"), status, StandardCopyOption.REPLACE_EXISTING);

        List<String> simulate = new ArrayList<>(DebianPackages.apt(apt, status, "install", "--simulate", "--yes"));
        simulate.addAll(packages);
        ProcessResult r = ExternalTool.run(APT_TIMEOUT, simulate, null);
        if (r.exitCode() != 0) {
            fail("apt-get cannot install " + packages + " on the base:\n" + ExternalTool.lastLines(r.output(), 30));
        }
        Matcher inst = Pattern.compile("(?m)^Inst (\\S+) (?:\\[[^]]*] )?\\((\\S+) ").matcher(r.stdout());
        List<String> wanted = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        while (inst.find()) {
            String debName = inst.group(1) + "_" + inst.group(2).replace(":", "%3a") + "_";
            wanted.add(debName);
            if (find(pool, debName) == null) {
                missing.add(inst.group(1) + "=" + inst.group(2));
            }
        }
        if (wanted.isEmpty()) {
            fail("apt-get would install nothing of " + packages + ": are they preinstalled in the base?\n" + r.stdout());
        }
        if (!missing.isEmpty()) {
            List<String> download = new ArrayList<>(DebianPackages.apt(apt, status, "download"));
            download.addAll(missing);
            ProcessResult d = ExternalTool.run(APT_TIMEOUT, download, pool);
            if (d.exitCode() != 0) {
                fail("apt-get download failed:\n" + ExternalTool.lastLines(d.output(), 30));
            }
        }
        Path repo = dir.resolve("debian");
        Path debs = Files.createDirectories(repo.resolve("pool/main"));
        for (String debName : wanted) {
            Path deb = find(pool, debName);
            if (deb == null) {
                fail("apt-get download left no " + debName + "*.deb in " + pool);
            }
            Files.copy(deb, debs.resolve(deb.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Path dists = Files.createDirectories(repo.resolve("dists").resolve(suite));
        Path binary = Files.createDirectories(dists.resolve("main/binary-amd64"));
        ProcessResult p = ExternalTool.run(APT_TIMEOUT, List.of("apt-ftparchive", "packages", "pool"), repo);
        check(p, "apt-ftparchive packages");
        Files.writeString(binary.resolve("Packages"), p.stdout());
        check(ExternalTool.run(APT_TIMEOUT, List.of("gzip", "-k", "-9", "-n", "Packages"), binary), "gzip");
        ProcessResult rel = ExternalTool.run(APT_TIMEOUT, List.of("apt-ftparchive",
                "-o", "APT::FTPArchive::Release::Origin=Debian", "-o", "APT::FTPArchive::Release::Label=Debian",
                "-o", "APT::FTPArchive::Release::Suite=" + suite, "-o", "APT::FTPArchive::Release::Codename=" + suite,
                "-o", "APT::FTPArchive::Release::Architectures=amd64",
                "-o", "APT::FTPArchive::Release::Components=main", "release", "."), dists);
        check(rel, "apt-ftparchive release");
        Files.writeString(dists.resolve("Release"), rel.stdout());
        return new PackageMirror(repo, sign(dir, dists));
    }

    /**
     * Signs {@code dists}' Release (InRelease and Release.gpg) with a key made now, which is also written
     * to {@code dir}/mirror-key.asc; returns the armored public key.
     */
    public static String sign(Path dir, Path dists) throws IOException {
        // gpg-agent's socket path must be short: a home under /tmp, not under the test's directory.
        Path home = Files.createTempDirectory(Path.of("/tmp"), "pi-gpg-");
        try {
            List<String> gpg = List.of("gpg", "--homedir", home.toString(), "--batch", "--quiet", "--pinentry-mode",
                    "loopback", "--passphrase", "");
            check(ExternalTool.run(APT_TIMEOUT, concat(gpg, "--quick-gen-key",
                    "piimage rehearsal mirror <rehearsal@mirror.invalid>", "ed25519", "sign", "never"), null), "gpg key");
            check(ExternalTool.run(APT_TIMEOUT, concat(gpg, "--yes", "--clearsign", "-o", "InRelease", "Release"), dists),
                    "gpg --clearsign");
            check(ExternalTool.run(APT_TIMEOUT, concat(gpg, "--yes", "-abs", "-o", "Release.gpg", "Release"), dists),
                    "gpg -abs");
            ProcessResult key = ExternalTool.run(APT_TIMEOUT, concat(gpg, "--armor", "--export"), null);
            check(key, "gpg --export");
            Files.writeString(dir.resolve("mirror-key.asc"), key.stdout());
            return key.stdout();
        } finally {
            ExternalTool.run(Duration.ofSeconds(30), List.of("gpgconf", "--homedir", home.toString(), "--kill", "all"),
                    null);
            ExternalTool.run(Duration.ofSeconds(30), List.of("rm", "-rf", home.toString()), null);
        }
    }

    /** The armored public key that signs the mirror's Release. */
    public String publicKey() {
        return publicKey;
    }

    /** Starts serving on 127.0.0.1 (an ephemeral port); returns the port. */
    public int serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/debian/", exchange -> FileAnswer.answer(exchange, root, "/debian/", requests));
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
        return server.getAddress().getPort();
    }

    /** Every request served so far: method, path, status. */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    /** The .deb files the mirror holds. */
    public List<String> debs() throws IOException {
        try (Stream<Path> files = Files.list(root.resolve("pool/main"))) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static Path find(Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                    && f.getFileName().toString().endsWith(".deb")).findFirst().orElse(null);
        }
    }

    private static void check(ProcessResult r, String what) {
        if (r.exitCode() != 0) {
            fail(what + " failed (exit " + r.exitCode() + "):\n" + ExternalTool.lastLines(r.output(), 30));
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }
}
