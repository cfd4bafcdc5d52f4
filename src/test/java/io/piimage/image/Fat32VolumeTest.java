package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.image.Fat32Volume.FatEntry;
import io.piimage.image.TestImages.Image;
import io.piimage.image.TestImages.Layout;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FAT32 engine on its own, changing an mtools-filled image in place. */
class Fat32VolumeTest {

    @TempDir
    Path tmp;

    private Image image;

    @BeforeEach
    void buildImage() throws IOException {
        image = TestImages.build(tmp, Layout.UBUNTU);
    }

    private interface VolumeWork {
        void run(Fat32Volume v) throws IOException;
    }

    private void change(VolumeWork work) throws IOException {
        try (FileChannel ch = FileChannel.open(image.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Fat32Volume v = Fat32Volume.open(ch, image.bootOffset(), image.bootLength(), Fat32Volume.DEFAULT_TIMESTAMP);
            work.run(v);
            v.flush();
        }
    }

    private Fat32Volume reopen(FileChannel ch) throws IOException {
        return Fat32Volume.open(ch, image.bootOffset(), image.bootLength(), Fat32Volume.DEFAULT_TIMESTAMP);
    }

    private byte[] mcopyOut(String fatPath) throws IOException {
        Path dest = tmp.resolve("out-" + System.nanoTime());
        TestImages.ok(List.of("mcopy", "-n", "-i", image.mtoolsTarget(), "::" + fatPath, dest.toString()), null);
        return Files.readAllBytes(dest);
    }

    @Test
    void readsWhatMtoolsWroteCaseInsensitively() throws IOException {
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            assertThat(v.label()).contains("system-boot");
            assertThat(v.exists("CMDLINE.TXT")).isTrue();
            assertThat(v.exists("/Overlays/readme")).isTrue();
            assertThat(v.exists("nope/readme")).isFalse();
            assertThat(v.readFile("BCM2711-RPI-CM4.DTB")).isEqualTo(image.bootFiles().get("bcm2711-rpi-cm4.dtb"));
            assertThat(v.list("/").stream().map(FatEntry::name)).contains("bcm2711-rpi-4-b.dtb", "overlays", "cmdline.txt");
            assertThat(v.list("/").stream().map(FatEntry::shortName)).contains("BCM271~1.DTB", "CMDLINE.TXT");
            for (var f : image.bootFiles().entrySet()) {
                assertThat(v.readFile(f.getKey())).as(f.getKey()).isEqualTo(f.getValue());
            }
        }
    }

    @Test
    void overwriteGrowsAndShrinksTheChainAndFreesClusters() throws IOException {
        long before;
        try (FileChannel ch = FileChannel.open(image.path())) {
            before = reopen(ch).freeClusters();
        }
        byte[] big = TestImages.bytes("grow", 40_000);
        byte[] small = TestImages.bytes("shrink", 700);
        change(v -> v.writeFile("kernel8.img", big));          // 700 000 -> 40 000: shrink
        assertThat(mcopyOut("/kernel8.img")).isEqualTo(big);
        TestImages.assertFsckClean(image, image.path(), tmp);
        change(v -> v.writeFile("README", TestImages.bytes("readme-grow", 300_000))); // 1 000 -> 300 000: grow
        assertThat(mcopyOut("/README")).isEqualTo(TestImages.bytes("readme-grow", 300_000));
        TestImages.assertFsckClean(image, image.path(), tmp);
        change(v -> {
            v.writeFile("new.bin", big);
            v.writeFile("new.bin", small);  // replaced again before the flush
            v.writeFile("zero.bin", new byte[0]);
            v.writeFile("start4.elf", new byte[0]);
        });
        assertThat(mcopyOut("/new.bin")).isEqualTo(small);
        assertThat(mcopyOut("/zero.bin")).isEmpty();
        assertThat(mcopyOut("/start4.elf")).isEmpty();
        TestImages.assertFsckClean(image, image.path(), tmp);
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            // kernel8.img 1368 -> 79 clusters, README 2 -> 586, new.bin 2, start4.elf 176 -> 0
            long expected = before + (1368 - 79) - (586 - 2) - 2 + 176;
            // the root directory may have grown by one cluster for the new entries (fsck checked the count)
            assertThat(v.freeClusters()).isBetween(expected - 1, expected);
            // the other files are untouched
            assertThat(v.readFile("bcm2712-rpi-5-b.dtb")).isEqualTo(image.bootFiles().get("bcm2712-rpi-5-b.dtb"));
        }
    }

    @Test
    void directoriesGrowPastOneClusterWithHundredsOfLongNames() throws IOException {
        change(v -> {
            v.mkdirs("piimage/deeply/nested/dir");
            for (int i = 0; i < 300; i++) {
                v.writeFile("piimage/deeply/a file with a rather long name number " + i + ".yaml",
                        ("content " + i).getBytes(StandardCharsets.UTF_8));
            }
            for (int i = 0; i < 120; i++) { // the root directory grows too
                v.writeFile("root-level-long-name-" + i + ".conf", ("r" + i).getBytes(StandardCharsets.UTF_8));
            }
            v.writeFile("piimage/deeply/nested/dir/leaf.txt", "leaf".getBytes(StandardCharsets.UTF_8));
        });
        TestImages.assertFsckClean(image, image.path(), tmp);
        String listing = TestImages.ok(List.of("mdir", "-i", image.mtoolsTarget(), "::/piimage/deeply"), null).stdout();
        assertThat(listing).contains("a file with a rather long name number 0.yaml",
                "a file with a rather long name number 299.yaml", "nested");
        assertThat(mcopyOut("/piimage/deeply/a file with a rather long name number 299.yaml"))
                .isEqualTo("content 299".getBytes(StandardCharsets.UTF_8));
        assertThat(mcopyOut("/root-level-long-name-119.conf")).isEqualTo("r119".getBytes(StandardCharsets.UTF_8));
        assertThat(mcopyOut("/piimage/deeply/nested/dir/leaf.txt")).isEqualTo("leaf".getBytes(StandardCharsets.UTF_8));
        // everything mtools wrote is still there
        Map<String, byte[]> all = TestImages.readAllWithMtools(image.path(), image.bootOffset(), tmp.resolve("all"));
        image.bootFiles().forEach((k, val) -> assertThat(all.get(k)).as(k).isEqualTo(val));
        assertThat(all).hasSize(image.bootFiles().size() + 300 + 120 + 1);
    }

    @Test
    void aliasesStayUniqueBeyondNineCollisions() throws IOException {
        change(v -> {
            for (int i = 0; i < 15; i++) {
                v.writeFile("bcm2711-rpi-extra-" + i + ".dtb", TestImages.bytes("x" + i, 100));
            }
            v.writeFile("overlays/vc4-kms-overlay-new.dtbo", TestImages.bytes("ov", 100));
        });
        TestImages.assertFsckClean(image, image.path(), tmp);
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            List<String> shorts = v.list("/").stream().map(FatEntry::shortName).toList();
            assertThat(new HashSet<>(shorts)).hasSameSizeAs(shorts);
            // mtools used ~1..~6 for its six bcm2711 names; ours continue and the tail widens at 10.
            assertThat(shorts).contains("BCM271~7.DTB", "BCM271~9.DTB", "BCM27~10.DTB", "BCM27~21.DTB");
            Set<String> overlayShorts = new HashSet<>();
            v.list("overlays").forEach(e -> assertThat(overlayShorts.add(e.shortName())).isTrue());
        }
        String listing = TestImages.ok(List.of("mdir", "-i", image.mtoolsTarget(), "::/"), null).stdout();
        assertThat(listing).contains("BCM27~10 DTB", "bcm2711-rpi-extra-14.dtb");
        for (int i = 0; i < 15; i++) {
            assertThat(mcopyOut("/bcm2711-rpi-extra-" + i + ".dtb")).isEqualTo(TestImages.bytes("x" + i, 100));
        }
    }

    @Test
    void unicodeNamesRoundTrip() throws IOException {
        List<String> names = List.of("héllo wörld.txt", "日本語のファイル名.txt", "snow☃man.conf", "Ünïcödé Dir");
        change(v -> {
            v.writeFile(names.get(0), "one".getBytes(StandardCharsets.UTF_8));
            v.writeFile(names.get(1), "two".getBytes(StandardCharsets.UTF_8));
            v.writeFile(names.get(2), "three".getBytes(StandardCharsets.UTF_8));
            v.mkdirs(names.get(3));
            v.writeFile(names.get(3) + "/ü.txt", "four".getBytes(StandardCharsets.UTF_8));
        });
        TestImages.assertFsckClean(image, image.path(), tmp);
        String listing = TestImages.ok(List.of("mdir", "-i", image.mtoolsTarget(), "::/"), null).stdout();
        assertThat(listing).contains(names.get(0), names.get(1), names.get(2), names.get(3));
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            assertThat(v.readFile("HÉLLO WÖRLD.TXT")).isEqualTo("one".getBytes(StandardCharsets.UTF_8));
            // mtools reads them by their ASCII aliases (host file names stay ASCII whatever the locale)
            for (FatEntry e : v.list("/")) {
                if (e.name().equals(names.get(1))) {
                    assertThat(mcopyOut("/" + e.shortName())).isEqualTo("two".getBytes(StandardCharsets.UTF_8));
                }
            }
            assertThat(v.readFile(names.get(3) + "/ü.txt")).isEqualTo("four".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void upperCase83NamesGetNoLongNameButOthersDo() throws IOException {
        change(v -> {
            v.writeFile("SSH", new byte[0]);
            v.writeFile("USERCFG.TXT", "x".getBytes(StandardCharsets.UTF_8));
            v.writeFile("wpa.txt", "y".getBytes(StandardCharsets.UTF_8));
        });
        TestImages.assertFsckClean(image, image.path(), tmp);
        String listing = TestImages.ok(List.of("mdir", "-i", image.mtoolsTarget(), "::/"), null).stdout();
        assertThat(listing).containsPattern("(?m)^USERCFG  TXT\\s+1 2000-01-01\\s+0:00\\s*$");
        assertThat(listing).containsPattern("(?m)^WPA~1    TXT\\s+1 2000-01-01\\s+0:00  wpa.txt$");
    }

    @Test
    void deletesFilesAndEmptyDirectories() throws IOException {
        long before;
        try (FileChannel ch = FileChannel.open(image.path())) {
            before = reopen(ch).freeClusters();
        }
        change(v -> {
            assertThat(v.delete("kernel8.img")).isTrue();
            assertThat(v.delete("missing")).isFalse();
            v.mkdirs("EMPTY"); // one slot: takes kernel8.img's freed slot, so the root does not grow
            assertThat(v.delete("empty")).isTrue();
            assertThatThrownBy(() -> v.delete("overlays")).isInstanceOf(ImageException.class)
                    .hasMessageContaining("not empty");
        });
        TestImages.assertFsckClean(image, image.path(), tmp);
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            assertThat(v.exists("kernel8.img")).isFalse();
            assertThat(v.exists("empty")).isFalse();
            assertThat(v.freeClusters()).isEqualTo(before + 1368);
        }
    }

    @Test
    void refusesBadNamesAndMissingParentsWithoutStagingAnything() throws IOException {
        try (FileChannel ch = FileChannel.open(image.path())) {
            Fat32Volume v = reopen(ch);
            for (String bad : List.of("a:b", "what?", "trailing.", "x".repeat(256), "tab\there")) {
                assertThatThrownBy(() -> v.writeFile(bad, new byte[1])).isInstanceOf(ImageException.class);
            }
            assertThatThrownBy(() -> v.writeFile("no/such/dir/file", new byte[1]))
                    .isInstanceOf(ImageException.class).hasMessageContaining("no directory");
            assertThatThrownBy(() -> v.writeFile("overlays", new byte[1]))
                    .isInstanceOf(ImageException.class).hasMessageContaining("is a directory");
            assertThatThrownBy(() -> v.mkdirs("cmdline.txt/sub"))
                    .isInstanceOf(ImageException.class).hasMessageContaining("a file of that name exists");
            assertThatThrownBy(() -> v.writeFile("huge.bin", new byte[(int) v.freeBytes() + 1]))
                    .isInstanceOf(ImageException.class).hasMessageContaining("free");
            assertThat(v.hasChanges()).isFalse();
        }
    }

    @Test
    void refusesFat16NamingIt() throws IOException {
        Image fat16 = TestImages.build(tmp, Layout.PI_OS, "16", 64, Map.of("a.txt", new byte[1]));
        try (FileChannel ch = FileChannel.open(fat16.path())) {
            assertThat(Fat32Volume.identify(ch, fat16.bootOffset())).isEqualTo("FAT16");
            assertThat(Fat32Volume.identify(ch, fat16.rootOffset())).isEqualTo("ext4");
            assertThatThrownBy(() -> Fat32Volume.open(ch, fat16.bootOffset(), fat16.bootLength(),
                    Fat32Volume.DEFAULT_TIMESTAMP)).isInstanceOf(ImageException.class).hasMessageContaining("FAT16");
        }
    }

    @Test
    void refusesDifferingFatCopies() throws IOException {
        // poke only the second FAT copy: the value itself is plausible, the mismatch is not
        try (FileChannel ch = FileChannel.open(image.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            var bs = Fat32Volume.readFully(ch, image.bootOffset(), 512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long fat1 = image.bootOffset() + (bs.getShort(14) & 0xFFFF) * 512L + bs.getInt(36) * 512L;
            Fat32Volume.writeFully(ch, fat1 + 4 * 60_000, java.nio.ByteBuffer.wrap(new byte[] {-1, -1, -1, 15}));
            assertThatThrownBy(() -> reopen(ch)).isInstanceOf(ImageException.class).hasMessageContaining("differ");
        }
    }
}
