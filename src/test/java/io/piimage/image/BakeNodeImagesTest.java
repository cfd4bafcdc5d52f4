package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliRunner;
import io.piimage.image.TestImages.Image;
import io.piimage.image.TestImages.Layout;
import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeEvent;
import io.piimage.pipeline.BakeTarget;
import io.piimage.pipeline.Compression;
import io.piimage.plan.Node;
import io.piimage.testing.ExternalTool;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bake --base-image}: whole node images from images built by the real tools. */
class BakeNodeImagesTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-01T00:00:00Z"), ZoneOffset.UTC);
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";
    static final List<String> SEEDS = List.of("user-data", "meta-data", "network-config");

    @TempDir
    Path tmp;

    Path plan(String image) throws IOException {
        String yaml = "apiVersion: piimage/v1\n"
                + "cluster: {name: tiny, kubernetesVersion: \"1.31\"}\n"
                + "endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}\n"
                + "network: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}\n"
                + "os: {image: " + image + ", sshAuthorizedKeys: [\"" + KEY + "\"]}\n"
                + "nodes:\n"
                + "  - {name: cp1, role: control-plane, address: 10.30.0.11, model: pi5}\n"
                + "  - {name: w1, role: worker, address: 10.30.0.21, model: pi4}\n";
        return Files.writeString(tmp.resolve("tiny.yaml"), yaml);
    }

    Bake.Result bake(Path plan, Path base, Path out, Compression compression, List<BakeEvent> events)
            throws Exception {
        return Bake.builder(plan).target(BakeTarget.nodeImages(out, base, compression, null)).clock(CLOCK)
                .events(events::add).build().run();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> manifestEntries(Path manifest) throws IOException {
        Map<String, Object> root = (Map<String, Object>) new org.snakeyaml.engine.v2.api.Load(
                org.snakeyaml.engine.v2.api.LoadSettings.builder().build()).loadFromString(Files.readString(manifest));
        return (List<Map<String, Object>>) root.get("os_list");
    }

    private void assertNodeImage(Image base, Path img, Path seedDir, Node node) throws IOException {
        assertThat(Files.size(img)).isEqualTo(Files.size(base.path()));
        Map<String, byte[]> files = TestImages.readAllWithMtools(img, base.bootOffset(),
                tmp.resolve("read-" + img.getFileName() + System.nanoTime()));
        for (String seed : SEEDS) {
            assertThat(files.get(seed)).as(seed).isEqualTo(Files.readAllBytes(seedDir.resolve(seed)));
        }
        String cmdline = new String(files.get("cmdline.txt"), StandardCharsets.UTF_8);
        assertThat(cmdline.split("cgroup_enable=memory", -1)).hasSize(2);
        String baseRoot = new String(base.bootFiles().get("cmdline.txt"), StandardCharsets.US_ASCII)
                .replaceAll("(?s).*(root=\\S+).*", "$1");
        assertThat(cmdline).contains(baseRoot + " ");
        String config = new String(files.get("config.txt"), StandardCharsets.UTF_8);
        if (node.model() == io.piimage.plan.PiModel.PI5) {
            assertThat(config).contains("[pi5]\nkernel=kernel8.img");
        } else {
            assertThat(files.get("config.txt")).isEqualTo(base.bootFiles().get("config.txt"));
        }
        assertThat(files.get("kernel8.img")).isEqualTo(base.bootFiles().get("kernel8.img"));
        TestImages.assertFsckClean(base, img, tmp);
        assertThat(TestImages.sameRegion(base.path(), img, 0, base.bootOffset())).isTrue();
        assertThat(TestImages.sameRegion(base.path(), img, base.bootOffset() + base.bootLength(),
                Files.size(base.path()))).isTrue();
    }

    @Test
    void ubuntuBaseGivesEveryNodeItsSeedCmdlineAndPi5ConfigAndAManifest() throws Exception {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        String baseSha = TestImages.sha256(base.path());
        Path out = tmp.resolve("out");
        List<BakeEvent> events = new ArrayList<>();
        Bake.Result result = bake(plan("ubuntu-24.04"), base.path(), out, Compression.NONE, events);

        assertThat(TestImages.sha256(base.path())).isEqualTo(baseSha);
        for (Node node : result.plan().nodes()) {
            assertNodeImage(base, out.resolve(node.name() + ".img"), out.resolve(node.name()), node);
        }
        assertThat(events).noneMatch(e -> e instanceof BakeEvent.BaseImageDecompressed);
        assertThat(events).filteredOn(e -> e instanceof BakeEvent.BaseImageRecognised)
                .singleElement().extracting(e -> ((BakeEvent.BaseImageRecognised) e).profile()).isEqualTo("ubuntu-24.04");

        List<Map<String, Object>> os = manifestEntries(out.resolve("tiny.rpi-imager-manifest"));
        assertThat(os).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Node node = result.plan().nodes().get(i);
            Path img = out.resolve(node.name() + ".img");
            assertThat(os.get(i).get("name")).isEqualTo("tiny: " + node.name());
            assertThat(os.get(i).get("url")).isEqualTo(img.toUri().toString());
            assertThat(os.get(i).get("extract_sha256")).isEqualTo(TestImages.sha256(img));
            assertThat(((Number) os.get(i).get("extract_size")).longValue()).isEqualTo(Files.size(img));
        }
        assertNoTempFiles();
    }

    @Test
    void imagesKeepTheBasesHoles() throws Exception {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path out = tmp.resolve("out");
        Bake.Result result = bake(plan("ubuntu-24.04"), base.path(), out, Compression.NONE, new ArrayList<>());
        for (Node node : result.plan().nodes()) {
            Path img = out.resolve(node.name() + ".img");
            assertNodeImage(base, img, out.resolve(node.name()), node);
            // Only the data runs were written: the image occupies far fewer blocks than its length.
            long allocated = Long.parseLong(TestImages.ok(List.of("stat", "-c", "%b", img.toString()), null).stdout().strip()) * 512;
            assertThat(allocated).as("allocated bytes of " + img).isLessThan(Files.size(img) / 2);
        }
        assertNoTempFiles();
    }

    /**
     * The manifest's sizes and SHA-256s, taken while the images were written, are what coreutils'
     * sha256sum and stat say of the files afterwards, for every compression: extract_* of the raw
     * image (decompressed by the real xz/gzip for the compressed ones), image_download_* of the file.
     */
    @Test
    void manifestHashesAreSha256sumOfTheWrittenFilesInEveryFormat() throws Exception {
        Path sha256sum = ExternalTool.require("sha256sum");
        ExternalTool.require("xz");
        ExternalTool.require("gzip");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path plan = plan("ubuntu-24.04");
        for (Compression compression : Compression.values()) {
            Path out = tmp.resolve("out-" + compression);
            Bake.Result result = bake(plan, base.path(), out, compression, new ArrayList<>());
            List<Map<String, Object>> os = manifestEntries(out.resolve("tiny.rpi-imager-manifest"));
            assertThat(os).hasSize(result.plan().nodes().size());
            for (int i = 0; i < os.size(); i++) {
                Map<String, Object> entry = os.get(i);
                Path file = out.resolve(result.plan().nodes().get(i).name() + ".img" + compression.suffix());
                Path raw = file;
                if (compression != Compression.NONE) {
                    raw = tmp.resolve("raw-" + compression + "-" + i + ".img");
                    String tool = compression == Compression.XZ ? "xz" : "gzip";
                    TestImages.ok(List.of("sh", "-c", tool + " -dc '" + file + "' > '" + raw + "'"), null);
                }
                String what = compression + " " + file.getFileName();
                assertThat(entry.get("url")).as(what).isEqualTo(file.toUri().toString());
                assertThat(entry.get("extract_sha256")).as(what).isEqualTo(sha256sum(sha256sum, raw));
                assertThat(((Number) entry.get("extract_size")).longValue()).as(what).isEqualTo(Files.size(raw));
                assertThat(entry.get("image_download_sha256")).as(what).isEqualTo(sha256sum(sha256sum, file));
                assertThat(((Number) entry.get("image_download_size")).longValue()).as(what).isEqualTo(Files.size(file));
            }
        }
    }

    private static String sha256sum(Path tool, Path file) {
        String line = TestImages.ok(List.of(tool.toString(), "-b", file.toString()), null).stdout();
        return line.substring(0, line.indexOf(' '));
    }

    @Test
    void raspiosXzBaseIsDecompressedOnceAndGzOutputMatchesUncompressed() throws Exception {
        ExternalTool.require("xz");
        Image base = TestImages.build(tmp, Layout.PI_OS);
        TestImages.ok(List.of("xz", "-k", "-0", "-T0", base.path().toString()), null);
        Path xz = Path.of(base.path() + ".xz");
        Path plan = plan("raspios-trixie");

        List<BakeEvent> events = new ArrayList<>();
        Bake.Result result = bake(plan, xz, tmp.resolve("out-gz"), Compression.GZ, events);
        assertThat(events).filteredOn(e -> e instanceof BakeEvent.BaseImageDecompressed).hasSize(1);
        assertThat(events).filteredOn(e -> e instanceof BakeEvent.ImageWritten).hasSize(2);

        Path plain = tmp.resolve("out-plain");
        bake(plan, base.path(), plain, Compression.NONE, new ArrayList<>());
        for (Node node : result.plan().nodes()) {
            Path gz = tmp.resolve("out-gz").resolve(node.name() + ".img.gz");
            assertThat(tmp.resolve("out-gz").resolve(node.name() + ".img")).doesNotExist();
            Path unpacked = tmp.resolve(node.name() + "-unpacked.img");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz));
                 OutputStream o = Files.newOutputStream(unpacked)) {
                in.transferTo(o);
            }
            assertThat(TestImages.sha256(unpacked)).isEqualTo(TestImages.sha256(plain.resolve(node.name() + ".img")));
            assertNodeImage(base, unpacked, plain.resolve(node.name()), node);
            // Same secrets, same clock: the gz bake's seed files are the plain bake's.
            for (String seed : SEEDS) {
                assertThat(Files.readAllBytes(tmp.resolve("out-gz").resolve(node.name()).resolve(seed)))
                        .isEqualTo(Files.readAllBytes(plain.resolve(node.name()).resolve(seed)));
            }
        }
        assertNoTempFiles();
    }

    @Test
    void xzOutputThroughTheCli() throws Exception {
        ExternalTool.require("xz");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", base.path().toString(), "--compress", "xz");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("base image").contains("ubuntu-24.04").contains("cp1.img");
        Path unpacked = tmp.resolve("cp1-unpacked.img");
        TestImages.ok(List.of("sh", "-c", "xz -dc " + out.resolve("cp1.img.xz") + " > " + unpacked), null);
        assertNodeImage(base, unpacked, out.resolve("cp1"), planNode("cp1"));
        String manifest = Files.readString(out.resolve("tiny.rpi-imager-manifest"));
        assertThat(manifest).contains(TestImages.sha256(unpacked)).contains(TestImages.sha256(out.resolve("cp1.img.xz")));
    }

    private Node planNode(String name) throws Exception {
        return io.piimage.plan.PlanLoader.load(tmp.resolve("tiny.yaml"), ImageProfiles.packaged().names())
                .plan().node(name).orElseThrow();
    }

    @Test
    void profileMismatchExitsOneAndWritesNothing() throws Exception {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", base.path().toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("raspios-trixie").contains("'bootfs'").contains("cp1 (ubuntu-24.04)")
                .contains("nothing was written");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("tiny.secrets")).doesNotExist();
        assertNoTempFiles();
    }

    @Test
    void forcedProfileOverridesTheLabel() throws Exception {
        Image base = TestImages.build(tmp, Layout.PI_OS);
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(), "-q",
                "--base-image", base.path().toString(), "--image-profile", "ubuntu-24.04");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertNodeImage(base, out.resolve("w1.img"), out.resolve("w1"), planNode("w1"));
    }

    @Test
    void unknownImageIsRefusedNamingWhatWasFound() throws Exception {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        // Relabel the boot partition so no profile matches.
        TestImages.ok(List.of("mlabel", "-i", base.mtoolsTarget(), "::MYBOOT"), null);
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", base.path().toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("matches no image profile").contains("p1 (type 0x0c").contains("FAT32 'MYBOOT'")
                .contains("p2 (type 0x83").contains("ext4").contains("'system-boot'").contains("'bootfs'");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("tiny.secrets")).doesNotExist();

        Path notAnImage = Files.writeString(tmp.resolve("notes.img"), "hello");
        run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", notAnImage.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("not a Raspberry Pi image");
        assertThat(out).doesNotExist();
        assertNoTempFiles();
    }

    @Test
    void failureWhileMakingImagesLeavesNoImages() throws Exception {
        // A base whose boot partition has no cmdline.txt: recognised, but the edit fails for the first node.
        Map<String, byte[]> files = TestImages.prefill(Layout.UBUNTU);
        files.remove("cmdline.txt");
        Image base = TestImages.build(tmp, Layout.UBUNTU, "32", 64, files);
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", base.path().toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("node cp1: base image " + base.path() + ": ").contains("cmdline.txt");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("tiny.secrets")).as("secrets are made only after the images").doesNotExist();
        assertNoTempFiles();

        // From a compressed base the message names the file given, not its decompressed temp copy.
        TestImages.ok(List.of("gzip", "-k", "-1", base.path().toString()), null);
        Path gz = Path.of(base.path() + ".gz");
        run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(), "--base-image", gz.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("node cp1: base image " + gz + ": boot partition 'system-boot' has no cmdline.txt")
                .doesNotContain(".piimage-base-");
        assertThat(out).doesNotExist();
        assertNoTempFiles();
    }

    @Test
    void everyOutputIsOwnerOnlyWhateverTheFormat() throws Exception {
        ExternalTool.require("xz");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path plan = plan("ubuntu-24.04");
        for (Compression compression : Compression.values()) {
            Path out = tmp.resolve("out-" + compression);
            bake(plan, base.path(), out, compression, new ArrayList<>());
            // Control-plane images hold the CA keys: no format may be readable by others.
            assertThat(out.resolve("cp1.img" + compression.suffix())).isRegularFile();
            try (Stream<Path> all = Files.walk(out)) {
                for (Path p : all.toList()) {
                    String mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                    assertThat(mode).as(compression + ": " + out.relativize(p)).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
                }
            }
        }
    }

    @Test
    void twoBakesSecondsApartGiveIdenticalImagesInEveryFormat() throws Exception {
        ExternalTool.require("xz");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path plan = plan("ubuntu-24.04");
        List<Compression> formats = List.of(Compression.values());
        // The wall clock, not a fixed one: nothing of it may reach the images. Same secrets (the first bake
        // makes them, the others reuse them), same plan, same base.
        for (Compression compression : formats) {
            Bake.builder(plan).target(BakeTarget.nodeImages(tmp.resolve("first-" + compression), base.path(), compression, null))
                    .build().run();
        }
        Thread.sleep(2500); // FAT times count in 2 s steps
        for (Compression compression : formats) {
            Bake.builder(plan).target(BakeTarget.nodeImages(tmp.resolve("second-" + compression), base.path(), compression, null))
                    .build().run();
        }
        for (Compression compression : formats) {
            String suffix = compression.suffix();
            for (String node : List.of("cp1", "w1")) {
                Path first = tmp.resolve("first-" + compression).resolve(node + ".img" + suffix);
                Path second = tmp.resolve("second-" + compression).resolve(node + ".img" + suffix);
                assertThat(Files.mismatch(first, second)).as(first.getFileName() + ": first differing byte").isEqualTo(-1L);
            }
        }
    }

    @Test
    void overlappingOrCutPartitionsAreRefusedNamingTheImageBeforeAnythingIsWritten() throws Exception {
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path out = tmp.resolve("out");
        // p2 moved to start 1 MiB inside p1 (its end unchanged): p1's writes would change p2's bytes.
        Path overlapping = tmp.resolve("overlapping.img");
        Files.copy(base.path(), overlapping);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(overlapping,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer entry = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long mib = (1 << 20) / 512;
            entry.putInt((int) (base.rootOffset() / 512 - mib)).putInt((int) (base.rootLength() / 512 + mib)).flip();
            ch.write(entry, 462 + 8);
        }
        ExternalTool.ProcessResult fdisk = TestImages.run(List.of(ExternalTool.require("sfdisk").toString(), "--verify",
                overlapping.toString()), null);
        assertThat(fdisk.output()).containsIgnoringCase("overlap");
        // Cut short: the root partition runs past the end of the file.
        Path cut = tmp.resolve("cut.img");
        Files.copy(base.path(), cut);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(cut, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(base.path()) - 4096);
        }
        for (Path bad : List.of(overlapping, cut)) {
            String before = TestImages.sha256(bad);
            CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                    "--base-image", bad.toString());
            assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
            assertThat(run.err()).contains("base image " + bad + " is not a Raspberry Pi image: ")
                    .contains(bad == cut ? "the image is only" : "overlap").contains("nothing was written");
            assertThat(out).doesNotExist();
            assertThat(tmp.resolve("tiny.secrets")).doesNotExist();
            assertThat(TestImages.sha256(bad)).isEqualTo(before);
        }
        assertNoTempFiles();
    }

    /** Where {@code needle} first occurs in {@code file}. */
    private static int indexOf(Path file, byte[] needle) throws IOException {
        byte[] hay = Files.readAllBytes(file);
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (java.util.Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found in " + file);
    }

    @Test
    void zipBaseWhoseDataFailsItsCrcIsRefusedBeforeAnythingIsWritten() throws Exception {
        ExternalTool.require("zip");
        Path unzip = ExternalTool.require("unzip");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        // Stored (zip -0): damage shows only in the CRC-32, which nothing but a check of it notices.
        Path zip = tmp.resolve("ubuntu.zip");
        TestImages.ok(List.of("sh", "-c", "cd " + tmp + " && zip -q -0 " + zip + " " + base.path().getFileName()), null);
        assertThat(TestImages.run(List.of(unzip.toString(), "-t", zip.toString()), null).exitCode()).isZero();
        Path out = tmp.resolve("out");
        CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(), "-q",
                "--base-image", zip.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertNodeImage(base, out.resolve("cp1.img"), out.resolve("cp1"), planNode("cp1"));
        Files.walk(out).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Files.walk(tmp.resolve("tiny.secrets")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());

        // One bit of the kernel on the boot partition flipped, as a bad download or disk would.
        byte[] bytes = Files.readAllBytes(zip);
        int kernel = indexOf(zip, java.util.Arrays.copyOf(base.bootFiles().get("kernel8.img"), 64));
        bytes[kernel + 1000] ^= 0x10;
        Path damaged = Files.write(tmp.resolve("damaged.zip"), bytes);
        ExternalTool.ProcessResult test = TestImages.run(List.of(unzip.toString(), "-t", damaged.toString()), null);
        assertThat(test.exitCode()).isNotZero();
        assertThat(test.output()).contains("bad CRC");

        run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                "--base-image", damaged.toString());
        assertThat(run.exitCode()).as(run.out()).isEqualTo(1);
        assertThat(run.err()).contains("base image " + damaged + ": " + base.path().getFileName() + " is damaged")
                .contains("CRC-32").contains("nothing was written");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("tiny.secrets")).doesNotExist();
        assertNoTempFiles();
    }

    @Test
    void damagedCompressedBasesAreRefusedNamingTheFile() throws Exception {
        Path out = tmp.resolve("out");
        Path empty = Files.write(tmp.resolve("empty.img.gz"), new byte[0]);
        Path emptyXz = Files.write(tmp.resolve("empty.img.xz"), new byte[0]);
        Path text = Files.writeString(tmp.resolve("text.img.gz"), "not gzip\n");
        Path notZip = Files.writeString(tmp.resolve("text.zip"), "not zip\n");
        for (Path bad : List.of(empty, emptyXz, text, notZip)) {
            CliRunner.Run run = CliRunner.piimage("bake", plan("ubuntu-24.04").toString(), "-o", out.toString(),
                    "--base-image", bad.toString());
            assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
            assertThat(run.err()).as(bad.toString()).contains("\npiimage: error: base image " + bad + " is ")
                    .doesNotContain("null").doesNotContain("Exception");
            assertThat(out).doesNotExist();
            assertThat(tmp.resolve("tiny.secrets")).doesNotExist();
        }
        assertNoTempFiles();
    }

    private void assertNoTempFiles() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith(".piimage-") || n.endsWith(".partial") || n.startsWith(".out"));
        }
    }
}
