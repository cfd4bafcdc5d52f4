package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.image.TestImages.Image;
import io.piimage.image.TestImages.Layout;
import io.piimage.pipeline.Bake;
import io.piimage.pipeline.BakeTarget;
import io.piimage.pipeline.Compression;
import io.piimage.plan.Node;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code <node>.img.bmap} against Debian's bmaptool: {@code bmaptool copy --bmap} of every node image,
 * raw, .xz and .gz, onto a file gives the image's bytes (bmaptool verifies the map's own checksum and
 * every range's SHA-256 as it copies), and every 4 KiB block of the image that is not all zeros is in
 * the map, the new clusters the node's seed files took included.
 */
class BmapToolTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern RANGE = Pattern.compile("<Range chksum=\"[0-9a-f]{64}\"> (\\d+)(?:-(\\d+))? </Range>");

    @TempDir
    Path tmp;

    private Path plan() throws IOException {
        return Files.writeString(tmp.resolve("tiny.yaml"), "apiVersion: piimage/v1\n"
                + "cluster: {name: tiny, kubernetesVersion: \"1.31\"}\n"
                + "endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}\n"
                + "network: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}\n"
                + "os: {image: ubuntu-24.04, sshAuthorizedKeys: [\"" + BakeNodeImagesTest.KEY + "\"]}\n"
                + "nodes:\n"
                + "  - {name: cp1, role: control-plane, address: 10.30.0.11, model: pi5}\n"
                + "  - {name: w1, role: worker, address: 10.30.0.21, model: pi4}\n");
    }

    @Test
    void bmaptoolCopiesEveryNodeImageRawXzAndGzToTheSameBytes() throws Exception {
        Path bmaptool = ExternalTool.require("bmaptool");
        ExternalTool.require("xz");
        Image base = TestImages.build(tmp, Layout.UBUNTU);
        Path plan = plan();
        Bake.Result result = null;
        for (Compression compression : Compression.values()) {
            Path out = tmp.resolve("out-" + compression);
            result = Bake.builder(plan).target(BakeTarget.nodeImages(out, base.path(), compression, null))
                    .clock(BakeNodeImagesTest.CLOCK).build().run();
        }
        for (Node node : result.plan().nodes()) {
            Path raw = tmp.resolve("out-NONE").resolve(node.name() + ".img");
            assertEveryDataBlockIsMapped(raw, tmp.resolve("out-NONE").resolve(node.name() + ".img.bmap"));
            for (String suffix : List.of("NONE:", "XZ:.xz", "GZ:.gz")) {
                Path dir = tmp.resolve("out-" + suffix.split(":")[0]);
                Path image = dir.resolve(node.name() + ".img" + suffix.substring(suffix.indexOf(':') + 1));
                Path bmap = dir.resolve(node.name() + ".img.bmap");
                assertThat(bmap).as("beside " + image).isRegularFile();
                Path dest = tmp.resolve("card-" + node.name() + suffix.split(":")[0]);
                ProcessResult copy = ExternalTool.run(TIMEOUT,
                        List.of(bmaptool.toString(), "copy", "--bmap", bmap.toString(), image.toString(), dest.toString()), tmp);
                assertThat(copy.exitCode()).as(copy.output()).isZero();
                assertThat(TestImages.sameRegion(raw, dest, 0, Files.size(raw))).as(image + " copied by bmaptool").isTrue();
            }
        }
    }

    /** Every non-zero 4 KiB block of {@code image} lies inside a range of {@code bmap}. */
    private static void assertEveryDataBlockIsMapped(Path image, Path bmap) throws IOException {
        List<long[]> ranges = new ArrayList<>();
        Matcher m = RANGE.matcher(Files.readString(bmap));
        while (m.find()) {
            long first = Long.parseLong(m.group(1));
            ranges.add(new long[] {first, m.group(2) == null ? first : Long.parseLong(m.group(2))});
        }
        assertThat(ranges).isNotEmpty();
        int unmapped = 0;
        int r = 0;
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer block = ByteBuffer.allocate(Bmap.BLOCK_SIZE);
            byte[] zeros = new byte[Bmap.BLOCK_SIZE];
            long blocks = (in.size() + Bmap.BLOCK_SIZE - 1) / Bmap.BLOCK_SIZE;
            for (long b = 0; b < blocks; b++) {
                block.clear();
                in.read(block, b * Bmap.BLOCK_SIZE);
                boolean zero = java.util.Arrays.mismatch(block.array(), 0, block.position(), zeros, 0, block.position()) < 0;
                while (r < ranges.size() && ranges.get(r)[1] < b) {
                    r++;
                }
                boolean mapped = r < ranges.size() && ranges.get(r)[0] <= b;
                if (!zero && !mapped) {
                    unmapped++;
                }
            }
        }
        assertThat(unmapped).as("non-zero blocks of " + image + " missing from its bmap").isZero();
    }
}
