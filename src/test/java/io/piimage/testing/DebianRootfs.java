package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The stand-in for a Raspberry Pi's root file system in boot tests: Debian bookworm for x86-64, made by
 * debootstrap, dressed as Ubuntu's raspi image where cloud-init and our first boot look (the NoCloud
 * datasource on the {@code system-boot} label, the boot partition mounted at /boot/firmware). It is not
 * arm64 and not Ubuntu; what it proves is what happens between the card's files and the first-boot unit.
 *
 * <p>debootstrap takes minutes, so the result is cached under {@code $PIIMAGE_TEST_CACHE} (default
 * {@code ~/.cache/piimage-tests}), keyed by everything that goes into it, and published by an atomic
 * rename: an interrupted build never looks finished.
 */
public final class DebianRootfs {

    static final String SUITE = "bookworm";
    static final String MIRROR = "http://deb.debian.org/debian";
    /**
     * The recipe's list (recipes.md: python3-cffi-backend or cloud-init stays unconfigured), plus what a
     * load balancer's first boot runs offline: procps (sysctl), curl, keepalived and HAProxy, which on a
     * Pi cloud-init installs from the network. The VMs have no way out, so here they are preinstalled.
     * dbus: without it systemd-logind does not run, and the VM ignores the power button.
     */
    static final List<String> PACKAGES = List.of("linux-image-amd64", "cloud-init", "python3-cffi-backend",
            "systemd-sysv", "udev", "iproute2", "ifupdown", "isc-dhcp-client", "kmod", "procps", "curl",
            "keepalived", "haproxy", "dbus", "openssh-server");

    /** Files laid over the debootstrap result, as on Ubuntu's preinstalled raspi image (facts.md). */
    static final Map<String, String> OVERLAY = new TreeMap<>(Map.of(
            "etc/cloud/cloud.cfg.d/99-fake_cloud.cfg",
            "datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    fs_label: system-boot\n",
            "etc/fstab",
            "LABEL=writable\t/\text4\tdefaults\t0\t1\nLABEL=system-boot\t/boot/firmware\tvfat\tdefaults\t0\t1\n",
            "etc/hostname", "ubuntu\n"));

    private static final Duration DEBOOTSTRAP_TIMEOUT = Duration.ofMinutes(15);

    private DebianRootfs() {
    }

    /** The cached root file system directory, built first if needed. Needs root and debootstrap. */
    public static Path cached() throws IOException {
        ExternalTool.requireRoot("debootstrap");
        Path debootstrap = ExternalTool.require("debootstrap");
        Path cache = Path.of(System.getenv().getOrDefault("PIIMAGE_TEST_CACHE",
                System.getProperty("user.home") + "/.cache/piimage-tests"));
        Path done = cache.resolve("rootfs-" + SUITE + "-" + key());
        if (Files.isDirectory(done)) {
            pruneOthers(cache, done);
            return done;
        }
        Files.createDirectories(cache);
        Path building = Files.createTempDirectory(cache, ".rootfs-building-");
        try {
            ProcessResult r = ExternalTool.run(DEBOOTSTRAP_TIMEOUT, List.of(debootstrap.toString(), "--arch=amd64",
                    "--variant=minbase", "--include=" + String.join(",", PACKAGES), SUITE, building.toString(), MIRROR),
                    null);
            if (r.exitCode() != 0) {
                fail("debootstrap failed (exit " + r.exitCode() + "):\n" + ExternalTool.lastLines(r.output(), 30));
            }
            for (Map.Entry<String, String> file : OVERLAY.entrySet()) {
                Path p = building.resolve(file.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, file.getValue(), StandardCharsets.UTF_8);
            }
            Files.createDirectories(building.resolve("boot/firmware"));
            try {
                Files.move(building, done, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileSystemException e) {
                if (!Files.isDirectory(done)) {
                    throw e;
                }
                // Another run finished the same build first: use its copy.
            }
        } finally {
            deleteTree(building);
        }
        pruneOthers(cache, done);
        return done;
    }

    /** Root file systems of earlier recipes are ~700 MB each and never used again. */
    private static void pruneOthers(Path cache, Path keep) throws IOException {
        try (Stream<Path> all = Files.list(cache)) {
            for (Path p : all.filter(p -> p.getFileName().toString().startsWith("rootfs-") && !p.equals(keep)).toList()) {
                deleteTree(p);
            }
        }
    }

    /** The kernel and initrd debootstrap installed, for QEMU's -kernel and -initrd. */
    public static Path kernel(Path rootfs) throws IOException {
        return onlyMatch(rootfs.resolve("boot"), "vmlinuz-");
    }

    public static Path initrd(Path rootfs) throws IOException {
        return onlyMatch(rootfs.resolve("boot"), "initrd.img-");
    }

    /** Bytes the tree holds (du), to size the ext4 partition. */
    public static long sizeBytes(Path rootfs) {
        ProcessResult r = ExternalTool.run(Duration.ofMinutes(2), List.of("du", "-sb", rootfs.toString()), null);
        if (r.exitCode() != 0) {
            fail("du failed: " + r.output());
        }
        return Long.parseLong(r.stdout().trim().split("\\s+")[0]);
    }

    private static Path onlyMatch(Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
            if (found.size() != 1) {
                fail("expected one " + prefix + "* in " + dir + ", found " + found);
            }
            return found.get(0);
        }
    }

    private static String key() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((SUITE + "\n" + MIRROR + "\n" + PACKAGES + "\n" + OVERLAY).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
