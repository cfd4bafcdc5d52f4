package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Real Debian packages of any suite (bookworm, trixie, ...) for tests that run a distribution's own
 * binaries or read its own files: a private apt state per suite (the host's apt is left alone), then
 * {@code apt-get download} and {@code dpkg-deb -x}. The mirror is the host's own Debian mirror (read
 * from its apt configuration, or {@code PIIMAGE_DEBIAN_MIRROR}), so no address is written here.
 *
 * <p>Downloads are cached under {@code $PIIMAGE_TEST_CACHE/debian} (default
 * {@code ~/.cache/piimage-tests/debian}); extracted trees are published by an atomic rename.
 */
public final class DebianPackages {

    private static final Duration APT_TIMEOUT = Duration.ofMinutes(10);
    /** Package lists older than this are fetched again (a point release may have replaced a .deb). */
    private static final Duration LISTS_MAX_AGE = Duration.ofHours(12);
    private static final Pattern URIS = Pattern.compile("(?m)^URIs:\\s*(\\S+)");
    private static final Pattern DEB_LINE = Pattern.compile("(?m)^deb\\s+(?:\\[[^]]*]\\s+)?(\\S+)\\s+\\S+");

    private DebianPackages() {
    }

    /** The cache directory shared by the package-based tests. */
    public static Path cache() {
        return Path.of(System.getenv().getOrDefault("PIIMAGE_TEST_CACHE",
                System.getProperty("user.home") + "/.cache/piimage-tests"));
    }

    /**
     * The host's Debian mirror (the first {@code .../debian} URI of its apt sources), or
     * {@code PIIMAGE_DEBIAN_MIRROR}. Fails the test (or skips it, outside CI) when there is none.
     */
    public static String mirror() {
        String override = System.getenv("PIIMAGE_DEBIAN_MIRROR");
        if (override != null && !override.isBlank()) {
            return override.strip();
        }
        List<Path> sources = new ArrayList<>();
        sources.add(Path.of("/etc/apt/sources.list"));
        try (Stream<Path> parts = Files.list(Path.of("/etc/apt/sources.list.d"))) {
            parts.filter(p -> p.toString().endsWith(".sources") || p.toString().endsWith(".list"))
                    .sorted().forEach(sources::add);
        } catch (IOException e) {
            // no sources.list.d: only sources.list is read
        }
        for (Path source : sources) {
            String text;
            try {
                text = Files.readString(source, StandardCharsets.UTF_8);
            } catch (IOException e) {
                continue;
            }
            Matcher m = (source.toString().endsWith(".sources") ? URIS : DEB_LINE).matcher(text);
            while (m.find()) {
                String uri = m.group(1).replaceAll("/+$", "");
                if (uri.startsWith("http") && uri.endsWith("/debian")) {
                    return uri;
                }
            }
        }
        ExternalTool.missing("a Debian mirror in the host's apt sources (or PIIMAGE_DEBIAN_MIRROR)");
        throw new IllegalStateException("unreachable");
    }

    /** The downloaded .deb of {@code pkg} in {@code suite} (main, amd64 or all). */
    public static Path deb(String suite, String pkg) throws IOException {
        Path apt = aptState(suite);
        Path debs = apt.resolve("debs");
        Files.createDirectories(debs);
        Optional<Path> cached = find(debs, pkg);
        String wanted = version(suite, pkg);
        if (cached.isPresent() && cached.get().getFileName().toString()
                .startsWith(pkg + "_" + wanted.replace(":", "%3a") + "_")) {
            return cached.get();
        }
        ProcessResult r = ExternalTool.run(APT_TIMEOUT, apt(apt, "download", pkg), debs);
        if (r.exitCode() != 0) {
            fail("apt-get download " + pkg + " (" + suite + ") failed:\n" + ExternalTool.lastLines(r.output(), 20));
        }
        return find(debs, pkg).orElseThrow(() -> new IOException("apt-get download left no " + pkg + "_*.deb"));
    }

    /** The candidate version of {@code pkg} in {@code suite}. */
    public static String version(String suite, String pkg) throws IOException {
        Path apt = aptState(suite);
        ProcessResult r = ExternalTool.run(APT_TIMEOUT, apt(apt, "show", "--no-all-versions", pkg), null);
        Matcher m = Pattern.compile("(?m)^Version:\\s*(\\S+)").matcher(r.stdout());
        if (r.exitCode() != 0 || !m.find()) {
            fail(pkg + " is not in Debian " + suite + ":\n" + ExternalTool.lastLines(r.output(), 10));
        }
        return m.group(1);
    }

    /**
     * The files of {@code pkg} from {@code suite}, extracted (not installed: no maintainer scripts) into a
     * cached directory that the caller must not change.
     */
    public static Path extract(String suite, String pkg) throws IOException {
        Path deb = deb(suite, pkg);
        String name = deb.getFileName().toString().replaceAll("\\.deb$", "");
        Path root = cache().resolve("debian").resolve("extracted").resolve(suite);
        Path done = root.resolve(name);
        if (Files.isDirectory(done)) {
            return done;
        }
        Files.createDirectories(root);
        Path building = Files.createTempDirectory(root, ".extracting-");
        try {
            ProcessResult r = ExternalTool.run(Duration.ofMinutes(2),
                    List.of(ExternalTool.require("dpkg-deb").toString(), "-x", deb.toString(), building.toString()), null);
            if (r.exitCode() != 0) {
                fail("dpkg-deb -x " + deb + " failed:\n" + r.output());
            }
            DebianRootfs.publish(building, done);
        } finally {
            DebianRootfs.deleteTree(building);
        }
        return done;
    }

    /** A private apt state for one suite, its package lists fetched when missing or stale. */
    static synchronized Path aptState(String suite) throws IOException {
        ExternalTool.require("apt-get");
        Path apt = cache().resolve("debian").resolve("apt-" + suite);
        for (String dir : List.of("state/lists/partial", "cache/archives/partial", "parts", "prefs")) {
            Files.createDirectories(apt.resolve(dir));
        }
        String keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
        if (!Files.exists(Path.of(keyring))) {
            ExternalTool.missing("debian-archive-keyring (" + keyring + ")");
        }
        String sources = "deb [signed-by=" + keyring + "] " + mirror() + " " + suite + " main\n";
        Path list = apt.resolve("sources.list");
        boolean changed = !Files.exists(list) || !Files.readString(list).equals(sources);
        if (changed) {
            Files.writeString(list, sources);
        }
        if (!Files.exists(apt.resolve("status"))) {
            Files.writeString(apt.resolve("status"), "");
        }
        Path stamp = apt.resolve("updated");
        boolean stale = !Files.exists(stamp)
                || Files.getLastModifiedTime(stamp).toInstant().isBefore(Instant.now().minus(LISTS_MAX_AGE));
        if (changed || stale) {
            ProcessResult r = ExternalTool.run(APT_TIMEOUT, apt(apt, "update"), null);
            if (r.exitCode() != 0 || r.output().contains("W: Failed") || r.output().contains("E: ")) {
                fail("apt-get update for Debian " + suite + " failed:\n" + ExternalTool.lastLines(r.output(), 20));
            }
            Files.writeString(stamp, Instant.now() + "\n");
        }
        return apt;
    }

    private static List<String> apt(Path apt, String... command) {
        return apt(apt, apt.resolve("status"), command);
    }

    /** An apt command on the suite's private state, resolving against the dpkg {@code status} given. */
    static List<String> apt(Path apt, Path status, String... command) {
        String getOrCache = command[0].equals("show") ? "apt-cache" : "apt-get";
        List<String> c = new ArrayList<>(List.of(ExternalTool.require(getOrCache).toString(), "-q",
                "-o", "Dir::Etc::SourceList=" + apt.resolve("sources.list"),
                "-o", "Dir::Etc::SourceParts=" + apt.resolve("parts"),
                "-o", "Dir::Etc::Preferences=/dev/null",
                "-o", "Dir::Etc::PreferencesParts=" + apt.resolve("prefs"),
                "-o", "Dir::State=" + apt.resolve("state"),
                "-o", "Dir::State::Status=" + status,
                "-o", "Dir::Cache=" + apt.resolve("cache"),
                "-o", "APT::Architecture=amd64",
                "-o", "APT::Architectures=amd64",
                "-o", "Acquire::Languages=none",
                "-o", "APT::Sandbox::User=root"));
        c.addAll(List.of(command));
        return c;
    }

    private static Optional<Path> find(Path dir, String pkg) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(pkg + "_")
                    && p.getFileName().toString().endsWith(".deb")).max(Comparator.naturalOrder());
        }
    }
}
