package io.piimage.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A stand-in base card image: an MBR disk (identifier {@link DebianRootfs.Layout#DISK_ID}) with the
 * layout's FAT32 boot partition and an ext4 root file system holding a {@link DebianRootfs} tree, made
 * with the real tools (sfdisk, mkfs.vfat, mkfs.ext4 -d, mtools, debugfs): no loop devices, no mounts.
 */
public final class StandInImage {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private static final long MIB = 1 << 20;

    /** A built image and where its partitions start. */
    public record Image(Path path, long bootOffset, long rootOffset) {
    }

    private StandInImage() {
    }

    /**
     * Builds {@code dir/base.img}: {@code bootFiles} on the boot partition (Raspberry Pi OS's starts at
     * 8 MiB as pi-gen makes it, Ubuntu's at 1 MiB), the tree {@code rootfs} on the root partition with
     * room to spare, plus {@code rootFiles} (absolute path to content, mode 0644) written into it.
     */
    public static Image build(Path dir, DebianRootfs.Layout layout, Path rootfs, Map<String, byte[]> bootFiles,
                              Map<String, String> rootFiles) throws IOException {
        for (String tool : List.of("sfdisk", "mkfs.vfat", "mkfs.ext4", "mcopy", "debugfs", "truncate")) {
            ExternalTool.require(tool);
        }
        Path img = dir.resolve("base.img");
        long bootStart = (layout == DebianRootfs.Layout.RASPIOS ? 8 : 1) * MIB;
        long bootLen = 64 * MIB;
        long rootStart = bootStart + bootLen;
        long rootLen = (DebianRootfs.sizeBytes(rootfs) + 1024 * MIB) / MIB * MIB;
        ok(List.of("truncate", "-s", String.valueOf(rootStart + rootLen), img.toString()), null);
        String table = "label: dos\nlabel-id: 0x" + DebianRootfs.Layout.DISK_ID + "\n"
                + "start=" + bootStart / 512 + ", size=" + bootLen / 512 + ", type=c, bootable\n"
                + "start=" + rootStart / 512 + ", size=" + rootLen / 512 + ", type=83\n";
        ok(List.of("sfdisk", "-q", img.toString()), table);
        // 512-byte clusters: FAT32 needs at least 65525 of them.
        ok(List.of("mkfs.vfat", "-F", "32", "-s", "1", "-n", layout.bootLabel, "--offset=" + bootStart / 512,
                img.toString(), String.valueOf(bootLen / 1024)), null);
        ok(List.of("mkfs.ext4", "-q", "-F", "-L", layout.rootLabel, "-E", "offset=" + rootStart, "-d", rootfs.toString(),
                img.toString(), (rootLen / 1024) + "k"), null);

        Path staging = Files.createDirectories(dir.resolve("base-boot"));
        for (Map.Entry<String, byte[]> f : new TreeMap<>(bootFiles).entrySet()) {
            Files.write(staging.resolve(f.getKey()), f.getValue());
        }
        List<String> mcopy = new ArrayList<>(List.of("mcopy", "-s", "-o", "-i", img + "@@" + bootStart));
        try (Stream<Path> top = Files.list(staging)) {
            top.sorted().forEach(p -> mcopy.add(p.toString()));
        }
        mcopy.add("::/");
        ok(mcopy, null);

        StringBuilder requests = new StringBuilder();
        int n = 0;
        for (Map.Entry<String, String> f : new TreeMap<>(rootFiles).entrySet()) {
            Path local = Files.writeString(dir.resolve("base-root-file-" + n++), f.getValue(), StandardCharsets.UTF_8);
            String path = f.getKey();
            // A directory the base lacks (e.g. /etc/dnsmasq.d before dnsmasq is installed) is made first.
            String parent = path.substring(0, path.lastIndexOf('/'));
            if (!parent.isEmpty() && !Files.isDirectory(rootfs.resolve(parent.substring(1)))) {
                requests.append("mkdir ").append(parent).append('\n');
            }
            requests.append("rm ").append(path).append('\n')
                    .append("write ").append(local).append(' ').append(path).append('\n')
                    .append("sif ").append(path).append(" mode 0100644\n");
        }
        if (requests.length() > 0) {
            Path script = Files.writeString(dir.resolve("base-root-files.debugfs"), requests.toString());
            ProcessResult r = ok(List.of("debugfs", "-w", "-f", script.toString(), img + "?offset=" + rootStart), null);
            if (r.stderr().contains("Could not") || r.stderr().contains("not found by ext2_lookup")
                    && r.stderr().lines().filter(l -> l.contains("not found")).count() > rootFiles.size()) {
                fail("debugfs could not write the root files:\n" + r.output());
            }
        }
        return new Image(img, bootStart, rootStart);
    }

    private static ProcessResult ok(List<String> cmd, String stdin) {
        List<String> full = new ArrayList<>(List.of("env", "MTOOLS_SKIP_CHECK=1", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"));
        full.addAll(cmd);
        ProcessResult r = ExternalTool.run(TIMEOUT, full, null,
                stdin == null ? null : stdin.getBytes(StandardCharsets.US_ASCII));
        if (r.exitCode() != 0) {
            fail(cmd + " failed (exit " + r.exitCode() + "):\n" + r.output());
        }
        return r;
    }
}
