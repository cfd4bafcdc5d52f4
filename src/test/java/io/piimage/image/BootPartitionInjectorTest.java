package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.image.TestImages.Image;
import io.piimage.image.TestImages.Layout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BootPartitionInjectorTest {

    private static final List<String> LABELS = List.of("system-boot", "bootfs");

    @TempDir
    Path tmp;

    private static BootPartitionInjector injector() {
        return new BootPartitionInjector(LABELS, Fat32Volume.DEFAULT_TIMESTAMP, ProgressListener.NONE);
    }

    private static Map<String, byte[]> nodeFiles() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("user-data", "#cloud-config\nhostname: cp-1\n".getBytes(StandardCharsets.UTF_8));
        files.put("meta-data", "instance-id: cp-1\n".getBytes(StandardCharsets.UTF_8));
        files.put("network-config", "version: 2\nethernets: {}\n".getBytes(StandardCharsets.UTF_8));
        files.put("piimage/pki/ca.crt", TestImages.bytes("ca", 1_200));
        files.put("piimage/pki/etcd/ca.key", TestImages.bytes("etcdkey", 300));
        files.put("piimage/bin/first-boot-runner.sh", TestImages.bytes("runner", 250_000));
        files.put("bcm2711-rpi-4-b-cluster-node.dtb", TestImages.bytes("node-dtb", 9_000));
        files.put("kernel8.img", TestImages.bytes("new-kernel", 900_000)); // replace, grows
        files.put("start4.elf", TestImages.bytes("new-start4", 10_000));   // replace, shrinks
        files.put("EMPTY.TXT", new byte[0]);
        return files;
    }

    private static Map<String, UnaryOperator<String>> edits() {
        Map<String, UnaryOperator<String>> edits = new LinkedHashMap<>();
        edits.put("cmdline.txt", c -> CmdlineTxt.appendOnce(c, "cgroup_enable=memory"));
        edits.put("config.txt", c -> ConfigTxt.ensureSection(c, "[pi5]", "kernel=kernel8.img"));
        return edits;
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void injectsFilesAndEditsLeavingEverythingElseIntact(Layout layout) throws IOException {
        Image base = TestImages.build(tmp, layout);
        String baseSha = TestImages.sha256(base.path());
        Path out = tmp.resolve("node.img");
        List<long[]> reports = new ArrayList<>();
        BootPartitionInjector.Result result = new BootPartitionInjector(LABELS, Fat32Volume.DEFAULT_TIMESTAMP,
                (done, total) -> reports.add(new long[] {done, total}))
                .inject(base.path(), out, new BootPartitionChanges(nodeFiles(), edits()));

        assertThat(result.partitionNumber()).isEqualTo(1);
        assertThat(result.label()).isEqualTo(layout.label);
        assertThat(reports).isNotEmpty();
        // Progress counts the bytes copied: the base's data runs, not its holes.
        long dataBytes = DataMap.scan(base.path()).dataBytes();
        assertThat(dataBytes).isPositive().isLessThan(Files.size(base.path()));
        assertThat(reports.get(reports.size() - 1)).containsExactly(dataBytes, dataBytes);
        assertThat(TestImages.sha256(base.path())).isEqualTo(baseSha);
        assertThat(Files.size(out)).isEqualTo(Files.size(base.path()));
        assertThat(TestImages.siblingsOf(tmp)).noneMatch(p -> p.getFileName().toString().endsWith(".partial"));

        TestImages.assertFsckClean(base, out, tmp);

        // Every file, pre-existing and injected, reads back byte-identical through mtools.
        Map<String, byte[]> expected = new TreeMap<>(base.bootFiles());
        expected.putAll(nodeFiles());
        String cmdline = layout.cmdline.replace("\n", " cgroup_enable=memory\n");
        expected.put("cmdline.txt", cmdline.getBytes(StandardCharsets.US_ASCII));
        String config = new String(base.bootFiles().get("config.txt"), StandardCharsets.US_ASCII)
                + "\n[pi5]\nkernel=kernel8.img\n";
        expected.put("config.txt", config.getBytes(StandardCharsets.US_ASCII));
        Map<String, byte[]> actual = TestImages.readAllWithMtools(out, base.bootOffset(), tmp.resolve("readback"));
        assertThat(actual.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((name, content) -> assertThat(actual.get(name)).as(name).isEqualTo(content));
        assertThat(new String(actual.get("cmdline.txt"), StandardCharsets.US_ASCII))
                .contains(layout == Layout.UBUNTU ? "root=LABEL=writable" : "root=PARTUUID=1234abcd-02");

        // mtools sees the long names.
        String mdir = TestImages.ok(List.of("mdir", "-i", base.mtoolsTarget(), "::/"), null).stdout();
        String outDir = TestImages.ok(List.of("mdir", "-i", out + "@@" + base.bootOffset(), "::/"), null).stdout();
        assertThat(mdir).contains("bcm2711-rpi-4-b.dtb");
        assertThat(outDir).contains("bcm2711-rpi-4-b-cluster-node.dtb", "network-config", "piimage");

        // Outside the boot partition, not a byte differs (MBR, gap, ext4 root).
        long bootEnd = base.bootOffset() + base.bootLength();
        assertThat(TestImages.sameRegion(base.path(), out, 0, base.bootOffset())).isTrue();
        assertThat(TestImages.sameRegion(base.path(), out, bootEnd, Files.size(out))).isTrue();
        assertThat(TestImages.ok(List.of("cmp", "--ignore-initial=" + base.rootOffset(), base.path().toString(),
                out.toString()), null).exitCode()).isZero();

        // Sparse: the mostly empty FAT and ext4 areas are holes.
        assertThat(TestImages.allocatedBytes(out)).isLessThan(Files.size(out) / 2);
    }

    @Test
    void sameInputGivesIdenticalBytes() throws IOException {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        Path a = tmp.resolve("a.img");
        Path b = tmp.resolve("b.img");
        injector().inject(base.path(), a, new BootPartitionChanges(nodeFiles(), edits()));
        injector().inject(base.path(), b, new BootPartitionChanges(nodeFiles(), edits()));
        assertThat(Files.mismatch(a, b)).isEqualTo(-1L);
    }

    @Test
    void streamedBaseGivesTheSameOutputAsAFile() throws IOException {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path fromFile = tmp.resolve("file.img");
        Path fromStream = tmp.resolve("stream.img");
        injector().inject(base.path(), fromFile, new BootPartitionChanges(nodeFiles(), edits()));
        try (InputStream in = Files.newInputStream(base.path())) {
            injector().inject(in, -1, fromStream, new BootPartitionChanges(nodeFiles(), edits()));
        }
        assertThat(Files.mismatch(fromFile, fromStream)).isEqualTo(-1L);
    }

    @Test
    void editingAFileThatIsNotThereIsRefused() throws IOException {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        assertRefused(base.path(), new BootPartitionChanges(Map.of(),
                Map.of("missing.txt", UnaryOperator.identity())), "has no missing.txt");
    }

    @Test
    void fat16BootPartitionIsRefused() throws IOException {
        Image base = TestImages.build(tmp, Layout.UBUNTU, "16", 64, Map.of("cmdline.txt", "root=x\n".getBytes()));
        assertRefused(base.path(), BootPartitionChanges.files(nodeFiles()), "FAT16");
    }

    @Test
    void imageWithoutFatPartitionIsRefusedNamingWhatWasFound() throws IOException {
        TestImages.requireTools();
        Path img = tmp.resolve("nofat.img");
        TestImages.ok(List.of("truncate", "-s", "40M", img.toString()), null);
        TestImages.ok(List.of("sfdisk", "-q", img.toString()),
                "label: dos\nstart=2048, size=20480, type=83\nstart=22528, type=83\n".getBytes());
        TestImages.ok(List.of("mkfs.ext4", "-q", "-F", "-L", "writable", "-E", "offset=" + 2048 * 512,
                img.toString(), "10M"), null);
        assertRefused(img, BootPartitionChanges.files(nodeFiles()), "no FAT32 boot partition labelled");
        assertRefused(img, BootPartitionChanges.files(nodeFiles()), "p1 (type 0x83");
        assertRefused(img, BootPartitionChanges.files(nodeFiles()), "ext4");
    }

    @Test
    void otherLabelIsRefusedNamingTheLabelFound() throws IOException {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        BootPartitionInjector other = new BootPartitionInjector(List.of("CIDATA"), Fat32Volume.DEFAULT_TIMESTAMP,
                ProgressListener.NONE);
        Path out = tmp.resolve("out.img");
        assertThatThrownBy(() -> other.inject(base.path(), out, BootPartitionChanges.files(nodeFiles())))
                .isInstanceOf(ImageException.class).hasMessageContaining("FAT32 'system-boot'");
        assertThat(out).doesNotExist();
    }

    @Test
    void gptImageIsRefused() throws IOException {
        TestImages.requireTools();
        Path img = tmp.resolve("gpt.img");
        TestImages.ok(List.of("truncate", "-s", "40M", img.toString()), null);
        TestImages.ok(List.of("sfdisk", "-q", img.toString()), "label: gpt\nstart=2048, size=20480\n".getBytes());
        assertRefused(img, BootPartitionChanges.files(nodeFiles()), "GPT");
    }

    @Test
    void fullPartitionIsRefusedBeforeAnythingIsWritten() throws IOException {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        long free;
        try (FileChannel ch = FileChannel.open(base.path())) {
            free = Fat32Volume.open(ch, base.bootOffset(), base.bootLength(), Fat32Volume.DEFAULT_TIMESTAMP).freeBytes();
        }
        TestImages.mcopyIn(base, tmp.resolve("filler"), Map.of("filler.bin", new byte[(int) (free - 100 * 1024)]));
        assertRefused(base.path(), BootPartitionChanges.files(nodeFiles()), "boot partition 'bootfs'");
        assertRefused(base.path(), BootPartitionChanges.files(nodeFiles()), "KiB free, the node's files need");
    }

    @Test
    void corruptFatIsRefused() throws IOException {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        TestImages.pokeFat(base.path(), base.bootOffset(), 5, 0x0FFFFFF0); // reserved value: neither link nor end
        assertRefused(base.path(), BootPartitionChanges.files(nodeFiles()), "corrupt FAT32");
    }

    @Test
    void loopInTheFatIsRefused() throws IOException {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        TestImages.pokeFat(base.path(), base.bootOffset(), 40, 30); // links into an earlier chain: cross-link/loop
        assertRefused(base.path(), BootPartitionChanges.files(nodeFiles()), "corrupt FAT32");
    }

    private void assertRefused(Path base, BootPartitionChanges changes, String message) throws IOException {
        String sha = TestImages.sha256(base);
        Path outDir = Files.createDirectories(tmp.resolve("out-" + System.nanoTime()));
        Path out = outDir.resolve("node.img");
        assertThatThrownBy(() -> injector().inject(base, out, changes))
                .isInstanceOf(ImageException.class).hasMessageStartingWith(base + ": ").hasMessageContaining(message);
        assertThat(out).doesNotExist();
        assertThat(TestImages.siblingsOf(outDir)).isEmpty();
        assertThat(TestImages.sha256(base)).isEqualTo(sha);
    }
}
