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
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Stand-ins for a Raspberry Pi's root file system in boot tests: Debian for x86-64, made by debootstrap
 * from Debian's archive, dressed as the base image it stands in for where cloud-init and our first boot
 * look. A {@link Recipe} says which suite, which packages and which layout; it is not arm64 and not the
 * real distribution: what it proves is what happens between the card's files and the first-boot unit.
 *
 * <p>debootstrap takes minutes, so each recipe's result is cached under {@code $PIIMAGE_TEST_CACHE}
 * (default {@code ~/.cache/piimage-tests}), keyed by everything that goes into it, and published by an
 * atomic rename: an interrupted build never looks finished. An older build of the same recipe name is
 * deleted when a newer one is published; other recipes' builds are left alone.
 */
public final class DebianRootfs {

    /** Where the boot partition and the root file system are found, as on the distribution stood in for. */
    public enum Layout {
        /**
         * Ubuntu's preinstalled raspi image (facts.md): FAT {@code system-boot} at /boot/firmware, ext4
         * {@code writable}, NoCloud told by 99-fake_cloud.cfg to read the {@code system-boot} label.
         */
        UBUNTU_RASPI("system-boot", "writable", "root=LABEL=writable"),
        /**
         * Raspberry Pi OS (pi-gen): FAT {@code bootfs} at /boot/firmware, ext4 {@code rootfs}, both named
         * by PARTUUID (cmdline.txt's {@code root=PARTUUID=}), NoCloud seeded from /boot/firmware.
         */
        RASPIOS("bootfs", "rootfs", "root=PARTUUID=" + Layout.DISK_ID + "-02");

        /** The MBR disk identifier of the stand-in images, which PARTUUIDs are made of. */
        public static final String DISK_ID = "1234abcd";

        public final String bootLabel;
        public final String rootLabel;
        /** The kernel's root= argument, as the base's cmdline.txt has it. */
        public final String rootArgument;

        Layout(String bootLabel, String rootLabel, String rootArgument) {
            this.bootLabel = bootLabel;
            this.rootLabel = rootLabel;
            this.rootArgument = rootArgument;
        }
    }

    /**
     * One stand-in base: {@code name} is what its cache directory is called (one build per name is kept),
     * {@code files} are laid over the debootstrap result, {@code chroot} runs in it afterwards (offline:
     * users, systemctl enable/disable, symlinks).
     */
    public record Recipe(String name, String suite, Layout layout, List<String> packages, Map<String, String> files,
                         List<String> chroot) {
        public Recipe {
            if (!name.matches("[a-z0-9]+(-[a-z0-9]+)*")) {
                throw new IllegalArgumentException("recipe name " + name);
            }
            packages = List.copyOf(packages);
            files = new TreeMap<>(files);
            chroot = List.copyOf(chroot);
        }

        String key() {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update((suite + "\n" + layout + "\n" + packages + "\n" + files + "\n" + chroot)
                        .getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(md.digest()).substring(0, 12);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static final Duration DEBOOTSTRAP_TIMEOUT = Duration.ofMinutes(20);

    private DebianRootfs() {
    }

    /** The cached root file system of {@code recipe}, built first if needed. Needs root and debootstrap. */
    public static Path cached(Recipe recipe) throws IOException {
        ExternalTool.requireRoot("debootstrap");
        Path debootstrap = ExternalTool.require("debootstrap");
        Path cache = DebianPackages.cache();
        Path done = cache.resolve("rootfs-" + recipe.name() + "-" + recipe.key());
        if (Files.isDirectory(done)) {
            pruneOlder(cache, recipe, done);
            return done;
        }
        Files.createDirectories(cache);
        Path building = Files.createTempDirectory(cache, ".rootfs-building-");
        try {
            ProcessResult r = ExternalTool.run(DEBOOTSTRAP_TIMEOUT, List.of(debootstrap.toString(), "--arch=amd64",
                    "--variant=minbase", "--include=" + String.join(",", recipe.packages()), recipe.suite(),
                    building.toString(), DebianPackages.mirror()), null);
            if (r.exitCode() != 0) {
                fail("debootstrap " + recipe.suite() + " failed (exit " + r.exitCode() + "):\n"
                        + ExternalTool.lastLines(r.output(), 30));
            }
            for (Map.Entry<String, String> file : recipe.files().entrySet()) {
                Path p = building.resolve(file.getKey());
                Files.createDirectories(p.getParent());
                Files.deleteIfExists(p);
                Files.writeString(p, file.getValue(), StandardCharsets.UTF_8);
            }
            Files.createDirectories(building.resolve("boot/firmware"));
            for (String command : recipe.chroot()) {
                ProcessResult c = ExternalTool.run(Duration.ofMinutes(2),
                        List.of("chroot", building.toString(), "/bin/sh", "-ec", command), null);
                if (c.exitCode() != 0) {
                    fail("in the " + recipe.name() + " chroot, `" + command + "` failed:\n" + c.output());
                }
            }
            publish(building, done);
        } finally {
            deleteTree(building);
        }
        pruneOlder(cache, recipe, done);
        return done;
    }

    /** Earlier builds of the same recipe are ~700 MB each and never used again; other recipes stay. */
    private static void pruneOlder(Path cache, Recipe recipe, Path keep) throws IOException {
        Pattern sameRecipe = Pattern.compile("rootfs-" + Pattern.quote(recipe.name()) + "-[0-9a-f]{12}");
        try (Stream<Path> all = Files.list(cache)) {
            for (Path p : all.filter(p -> sameRecipe.matcher(p.getFileName().toString()).matches()
                    && !p.equals(keep)).toList()) {
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

    /**
     * Renames a finished tree into its cached place, atomically, so an interrupted build never looks
     * finished; when another run published the same tree first, its copy is used.
     */
    static void publish(Path building, Path done) throws IOException {
        try {
            Files.move(building, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileSystemException e) {
            if (!Files.isDirectory(done)) {
                throw e;
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
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
