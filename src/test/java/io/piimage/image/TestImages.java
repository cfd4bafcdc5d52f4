package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Raspberry Pi-like disk images built with the real tools (sfdisk, mkfs.vfat, mkfs.ext4, mtools): no
 * loop devices, no mounts. Also the checks that read them back with those tools.
 */
final class TestImages {

    static final Duration TIMEOUT = Duration.ofSeconds(120);
    static final long MIB = 1 << 20;

    /** The two layouts the issue names. */
    enum Layout {
        UBUNTU("system-boot", 1, "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1"
                + " root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet splash\n"),
        PI_OS("bootfs", 8, "console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4"
                + " fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n");

        final String label;
        final long bootStartMib;
        final String cmdline;

        Layout(String label, long bootStartMib, String cmdline) {
            this.label = label;
            this.bootStartMib = bootStartMib;
            this.cmdline = cmdline;
        }
    }

    /** A built image and where its partitions are. */
    record Image(Path path, long bootOffset, long bootLength, long rootOffset, long rootLength,
                 Map<String, byte[]> bootFiles) {
        String mtoolsTarget() {
            return path + "@@" + bootOffset;
        }
    }

    private TestImages() {
    }

    static void requireTools() {
        for (String tool : List.of("sfdisk", "mkfs.vfat", "mkfs.ext4", "fsck.vfat", "mcopy", "mdir", "truncate")) {
            ExternalTool.require(tool);
        }
    }

    /** The usual image: FAT32 boot partition of {@code bootMib} filled with Pi-like files, ext4 root. */
    static Image build(Path dir, Layout layout) throws IOException {
        return build(dir, layout, "32", 64, prefill(layout));
    }

    static Image build(Path dir, Layout layout, String fatBits, long bootMib, Map<String, byte[]> files)
            throws IOException {
        Path rootTree = Files.createDirectories(dir.resolve("rootfs-tree"));
        Files.createDirectories(rootTree.resolve("etc"));
        Files.writeString(rootTree.resolve("etc/hostname"), "ubuntu\n");
        Files.write(rootTree.resolve("etc/blob"), bytes("rootfs-blob", 300_000));
        return build(dir, layout, fatBits, bootMib, files, rootTree, 24 * MIB);
    }

    /** An image whose root partition ({@code rootLen} bytes, ext4) holds the tree {@code rootTree}. */
    static Image build(Path dir, Layout layout, String fatBits, long bootMib, Map<String, byte[]> files,
                       Path rootTree, long rootLen) throws IOException {
        requireTools();
        Path img = dir.resolve(layout.name().toLowerCase() + "-fat" + fatBits + ".img");
        long bootStart = layout.bootStartMib * MIB;
        long bootLen = bootMib * MIB;
        long rootStart = bootStart + bootLen;
        long total = rootStart + rootLen;
        ok(List.of("truncate", "-s", String.valueOf(total), img.toString()), null);
        String script = "label: dos\nlabel-id: 0x1234abcd\n"
                + "start=" + bootStart / 512 + ", size=" + bootLen / 512 + ", type=" + (fatBits.equals("32") ? "c" : "e")
                + ", bootable\n"
                + "start=" + rootStart / 512 + ", size=" + rootLen / 512 + ", type=83\n";
        ok(List.of("sfdisk", "-q", img.toString()), script.getBytes(StandardCharsets.US_ASCII));
        List<String> mkfs = new ArrayList<>(List.of("mkfs.vfat", "-F", fatBits, "-n", layout.label, "-i", "1234ABCD",
                "--offset=" + bootStart / 512));
        if (fatBits.equals("32")) {
            mkfs.addAll(List.of("-s", "1")); // 512-byte clusters: FAT32 needs >= 65525 of them
        }
        mkfs.addAll(List.of(img.toString(), String.valueOf(bootLen / 1024)));
        ok(mkfs, null);
        ok(List.of("mkfs.ext4", "-q", "-F", "-L", layout == Layout.UBUNTU ? "writable" : "rootfs", "-E",
                "offset=" + rootStart, "-d", rootTree.toString(), img.toString(), (rootLen / 1024) + "k"), null);
        Image image = new Image(img, bootStart, bootLen, rootStart, rootLen, files);
        mcopyIn(image, dir.resolve("boot-tree-" + layout.name() + fatBits), files);
        return image;
    }

    /** Puts files on the image's boot partition with mtools (which makes its own 8.3 aliases). */
    static void mcopyIn(Image image, Path staging, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(staging);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = staging.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        List<String> cmd = new ArrayList<>(List.of("mcopy", "-s", "-o", "-i", image.mtoolsTarget()));
        try (Stream<Path> top = Files.list(staging)) {
            top.sorted().forEach(p -> cmd.add(p.toString()));
        }
        cmd.add("::/");
        ok(cmd, null);
    }

    /** What a Pi boot partition looks like: colliding dtb names, overlays, firmware, text files. */
    static Map<String, byte[]> prefill(Layout layout) {
        Map<String, byte[]> files = new TreeMap<>();
        files.put("cmdline.txt", layout.cmdline.getBytes(StandardCharsets.US_ASCII));
        files.put("config.txt", ("[all]\nkernel=vmlinuz\ncmdline=cmdline.txt\n\n[pi4]\nmax_framebuffers=2\n"
                + "arm_boost=1\n\n[all]\ndtparam=audio=on\n").getBytes(StandardCharsets.US_ASCII));
        files.put("kernel8.img", bytes("kernel", 700_000));
        files.put("start4.elf", bytes("start4", 90_000));
        files.put("fixup4.dat", bytes("fixup4", 5_000));
        files.put("README", bytes("readme", 1_000));
        for (String model : List.of("rpi-4-b", "rpi-400", "rpi-cm4", "rpi-cm4s", "rpi-cm4-io", "rpi-4-b-v2")) {
            files.put("bcm2711-" + model + ".dtb", bytes(model, 20_000 + model.length()));
        }
        for (String model : List.of("rpi-2-b", "rpi-3-a-plus", "rpi-3-b", "rpi-3-b-plus", "rpi-cm3", "rpi-zero-2-w")) {
            files.put("bcm2710-" + model + ".dtb", bytes("2710" + model, 15_000));
        }
        for (String model : List.of("rpi-5-b", "rpi-500", "rpi-cm5-cm5io", "rpi-cm5l-cm5io", "d-rpi-5-b")) {
            files.put("bcm2712-" + model + ".dtb", bytes("2712" + model, 25_000));
        }
        for (int i = 0; i < 40; i++) {
            files.put("overlays/vc4-kms-overlay-" + i + ".dtbo", bytes("ovl" + i, 1_000 + 37 * i));
        }
        files.put("overlays/README", bytes("ovl-readme", 3_000));
        files.put("overlays/overlay_map.dtb", bytes("map", 4_000));
        if (layout == Layout.UBUNTU) {
            files.put("user-data", "#cloud-config\nhostname: ubuntu\n".getBytes(StandardCharsets.US_ASCII));
            files.put("meta-data", "instance_id: cloud-image\n".getBytes(StandardCharsets.US_ASCII));
            files.put("network-config", "version: 2\n".getBytes(StandardCharsets.US_ASCII));
        } else {
            files.put("issue.txt", "Raspberry Pi reference 2025-11-24\n".getBytes(StandardCharsets.US_ASCII));
        }
        return files;
    }

    /** Deterministic pseudo-random content. */
    static byte[] bytes(String seed, int length) {
        byte[] b = new byte[length];
        new Random(seed.hashCode()).nextBytes(b);
        return b;
    }

    static ProcessResult ok(List<String> cmd, byte[] stdin) {
        ProcessResult r = run(cmd, stdin);
        assertThat(r.exitCode()).as("%s\n%s", cmd, r.output()).isZero();
        return r;
    }

    static ProcessResult run(List<String> cmd, byte[] stdin) {
        List<String> full = new ArrayList<>(List.of("env", "MTOOLS_SKIP_CHECK=1", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"));
        full.addAll(cmd);
        return ExternalTool.run(TIMEOUT, full, null, stdin);
    }

    /** {@code fsck.vfat -n} on a copy of the boot partition (it has no offset option). */
    static ProcessResult fsck(Path img, long offset, long length, Path scratch) throws IOException {
        Path part = scratch.resolve("fsck-" + System.nanoTime() + ".fat");
        copyRegion(img, offset, length, part);
        try {
            return run(List.of("fsck.vfat", "-n", part.toString()), null);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    static void assertFsckClean(Image image, Path output, Path scratch) throws IOException {
        ProcessResult r = fsck(output, image.bootOffset(), image.bootLength(), scratch);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).as(r.output()).doesNotContainIgnoringCase("differ")
                .doesNotContainIgnoringCase("free cluster").doesNotContainIgnoringCase("lost")
                .doesNotContainIgnoringCase("wrong").doesNotContainIgnoringCase("duplicate");
    }

    static void copyRegion(Path img, long offset, long length, Path dest) throws IOException {
        try (FileChannel in = FileChannel.open(img); FileChannel out = FileChannel.open(dest,
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long done = 0;
            while (done < length) {
                done += in.transferTo(offset + done, length - done, out);
            }
        }
    }

    /** Every file of the boot partition, copied out with mtools. */
    static Map<String, byte[]> readAllWithMtools(Path img, long offset, Path dest) throws IOException {
        Files.createDirectories(dest);
        ok(List.of("mcopy", "-s", "-n", "-i", img + "@@" + offset, "::/", dest.toString() + "/"), null);
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(dest)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                out.put(dest.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return out;
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** True if the byte ranges [from, to) of two files are identical. */
    static boolean sameRegion(Path a, Path b, long from, long to) throws IOException {
        try (FileChannel ca = FileChannel.open(a); FileChannel cb = FileChannel.open(b)) {
            ByteBuffer ba = ByteBuffer.allocate(1 << 20);
            ByteBuffer bb = ByteBuffer.allocate(1 << 20);
            for (long pos = from; pos < to; ) {
                int n = (int) Math.min(ba.capacity(), to - pos);
                ba.clear().limit(n);
                bb.clear().limit(n);
                while (ba.hasRemaining() && ca.read(ba, pos + ba.position()) > 0) { }
                while (bb.hasRemaining() && cb.read(bb, pos + bb.position()) > 0) { }
                if (!ba.flip().equals(bb.flip())) {
                    return false;
                }
                pos += n;
            }
            return true;
        }
    }

    /** Overwrites a FAT entry in every FAT copy (so the copies still agree). */
    static void pokeFat(Path img, long partOffset, int cluster, int value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            ByteBuffer bs = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
            f.getChannel().read(bs, partOffset);
            int bps = bs.getShort(11) & 0xFFFF;
            int reserved = bs.getShort(14) & 0xFFFF;
            int fats = bs.get(16) & 0xFF;
            long fatSize = Integer.toUnsignedLong(bs.getInt(36)) * bps;
            ByteBuffer v = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
            for (int i = 0; i < fats; i++) {
                f.getChannel().write(v.clear(), partOffset + (long) reserved * bps + i * fatSize + cluster * 4L);
            }
        }
    }

    /** Blocks actually allocated to a file, in bytes (stat). */
    static long allocatedBytes(Path file) {
        ProcessResult r = ok(List.of("stat", "-c", "%b %B", file.toString()), null);
        String[] parts = r.stdout().trim().split(" ");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }

    static List<Path> siblingsOf(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
