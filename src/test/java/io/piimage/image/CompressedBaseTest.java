package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base images in zip and gzip files made by the real {@code zip} and {@code gzip}, then damaged on purpose:
 * what {@code unzip -t} / {@code gzip -t} call damaged is refused, naming the file, and a sound archive
 * gives back exactly the image.
 */
class CompressedBaseTest {

    @TempDir
    Path tmp;

    /** Data, a run of zeros (a hole in the copy), text: 3 MB. */
    private Path image() throws IOException {
        byte[] b = new byte[3_000_000];
        System.arraycopy(TestImages.bytes("data", 1_000_000), 0, b, 0, 1_000_000);
        byte[] text = "hello text ".repeat(50_000).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, b, 2_400_000, text.length);
        return Files.write(tmp.resolve("base.img"), b);
    }

    /** How a zip is made: deflated, stored ({@code -0}), or into a pipe (data descriptor after the data). */
    enum ZipKind { DEFLATED, STORED, STREAMED }

    private Path zip(ZipKind kind) throws IOException {
        ExternalTool.require("zip");
        Path img = image();
        Path zip = tmp.resolve("base-" + kind.name().toLowerCase() + ".zip");
        String command = switch (kind) {
            case DEFLATED -> "zip -q " + zip + " base.img";
            case STORED -> "zip -q -0 " + zip + " base.img";
            case STREAMED -> "zip -q - base.img | cat > " + zip;
        };
        TestImages.ok(List.of("sh", "-c", "cd " + tmp + " && " + command), null);
        return zip;
    }

    /** Where the single entry's records are, read from the central directory. */
    private record Layout(int dataStart, int compressed, int centralHeader, boolean descriptor) {
    }

    private static Layout layout(byte[] zip) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int cen = -1;
        for (int i = zip.length - 22; i >= 0; i--) {
            if (b.getInt(i) == 0x02014b50) {
                cen = i;
                break;
            }
        }
        int dataStart = 30 + (b.getShort(26) & 0xFFFF) + (b.getShort(28) & 0xFFFF);
        return new Layout(dataStart, b.getInt(cen + 20), cen, (b.getShort(6) & 8) != 0);
    }

    private static Path flip(Path zip, Path to, int offset) throws IOException {
        byte[] bytes = Files.readAllBytes(zip);
        bytes[offset] ^= 0x01;
        return Files.write(to, bytes);
    }

    /** A 4-byte size field one smaller: the data then ends inside the deflate stream. */
    private static Path shrink(Path zip, Path to, int offset) throws IOException {
        byte[] bytes = Files.readAllBytes(zip);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(offset, b.getInt(offset) - 1);
        return Files.write(to, bytes);
    }

    private ProcessResult unzipTest(Path zip) {
        return TestImages.run(List.of(ExternalTool.require("unzip").toString(), "-t", zip.toString()), null);
    }

    private DataMap unzip(Path zip) throws IOException {
        try (RandomAccessFile out = new RandomAccessFile(tmp.resolve("out.img").toFile(), "rw")) {
            return CompressedBase.unzip(zip, out);
        }
    }

    @Test
    void soundZipsOfEveryKindGiveBackTheImageExactly() throws Exception {
        for (ZipKind kind : ZipKind.values()) {
            Path zip = zip(kind);
            assertThat(unzipTest(zip).exitCode()).as(kind.name()).isZero();
            assertThat(layout(Files.readAllBytes(zip)).descriptor()).as(kind.name()).isEqualTo(kind == ZipKind.STREAMED);
            DataMap data = unzip(zip);
            assertThat(data.size()).isEqualTo(3_000_000);
            assertThat(Files.readAllBytes(tmp.resolve("out.img"))).as(kind.name())
                    .isEqualTo(Files.readAllBytes(tmp.resolve("base.img")));
            assertThat(data.dataBytes()).as("the zeros stay a hole").isLessThan(3_000_000);
        }
    }

    @Test
    void dataFailingItsCrcIsRefusedAsUnzipTestDoes() throws Exception {
        for (ZipKind kind : ZipKind.values()) {
            Path zip = zip(kind);
            Layout at = layout(Files.readAllBytes(zip));
            // The middle of the data: a stored zip only fails its CRC, a deflated one its CRC or its inflation.
            Path bad = flip(zip, tmp.resolve("bad-" + kind + ".zip"), at.dataStart() + at.compressed() / 2);
            ProcessResult unzip = unzipTest(bad);
            assertThat(unzip.exitCode()).as(unzip.output()).isNotZero();
            assertThat(unzip.output()).containsAnyOf("bad CRC", "invalid compressed data");
            assertThatThrownBy(() -> unzip(bad)).as(kind.name()).isInstanceOf(ImageException.class)
                    .hasMessageStartingWith("base image " + bad + ": base.img is damaged");
            if (kind == ZipKind.STORED) {
                assertThatThrownBy(() -> unzip(bad)).hasMessageContaining("CRC-32")
                        .hasMessageContaining("its zip records say");
            }
            // The last compressed byte: the end of the deflate stream or the data's last byte.
            Path badEnd = flip(zip, tmp.resolve("bad-end-" + kind + ".zip"), at.dataStart() + at.compressed() - 1);
            assertThat(unzipTest(badEnd).exitCode()).isNotZero();
            assertThatThrownBy(() -> unzip(badEnd)).isInstanceOf(ImageException.class)
                    .hasMessageContaining(badEnd.toString()).hasMessageContaining("damaged");
        }
    }

    @Test
    void recordsThatDisagreeAreRefused() throws Exception {
        // The local header's CRC and compressed size (no descriptor): unzip -t goes by those and fails.
        Path deflated = zip(ZipKind.DEFLATED);
        for (Path bad : List.of(flip(deflated, tmp.resolve("local-crc.zip"), 14),
                shrink(deflated, tmp.resolve("local-size.zip"), 18))) {
            assertThat(unzipTest(bad).exitCode()).as(bad.toString()).isNotZero();
            assertThatThrownBy(() -> unzip(bad)).isInstanceOf(ImageException.class)
                    .hasMessageContaining("base image " + bad + ": base.img").hasMessageContaining("local header")
                    .hasMessageContaining("disagrees with the central directory");
        }
        // With a data descriptor unzip -t takes the central directory's CRC and size: a flip there fails it too.
        Path streamed = zip(ZipKind.STREAMED);
        Layout at = layout(Files.readAllBytes(streamed));
        for (Path bad : List.of(flip(streamed, tmp.resolve("central-crc.zip"), at.centralHeader() + 16),
                shrink(streamed, tmp.resolve("central-size.zip"), at.centralHeader() + 20))) {
            assertThat(unzipTest(bad).exitCode()).as(bad.toString()).isNotZero();
            assertThatThrownBy(() -> unzip(bad)).isInstanceOf(ImageException.class).hasMessageContaining(bad.toString());
        }
        // Stricter than unzip -t, which reads only one of the two records: a data descriptor or a central
        // directory entry that disagrees with the rest means a damaged archive, and is refused.
        Path badDescriptor = flip(streamed, tmp.resolve("descriptor.zip"), at.dataStart() + at.compressed() + 4);
        assertThatThrownBy(() -> unzip(badDescriptor)).isInstanceOf(ImageException.class)
                .hasMessageContaining("data descriptor").hasMessageContaining("disagrees with the central directory");
        Path badCentralSize = flip(deflated, tmp.resolve("central-size.zip"), layout(Files.readAllBytes(deflated)).centralHeader() + 24);
        assertThatThrownBy(() -> unzip(badCentralSize)).isInstanceOf(ImageException.class)
                .hasMessageContaining(badCentralSize.toString()).hasMessageContaining("disagrees");
    }

    @Test
    void truncatedEmptyAndForeignZipsAreRefusedNamingTheFile() throws Exception {
        Path zip = zip(ZipKind.DEFLATED);
        byte[] bytes = Files.readAllBytes(zip);
        Layout at = layout(bytes);
        // Cut inside the data, central directory kept: the entry runs past the file's end.
        byte[] cut = new byte[bytes.length - 1000];
        System.arraycopy(bytes, 0, cut, 0, at.dataStart() + at.compressed() - 1000);
        System.arraycopy(bytes, at.dataStart() + at.compressed(), cut, at.dataStart() + at.compressed() - 1000,
                bytes.length - at.dataStart() - at.compressed());
        Path truncated = Files.write(tmp.resolve("truncated.zip"), cut);
        assertThat(unzipTest(truncated).exitCode()).isNotZero();
        assertThatThrownBy(() -> unzip(truncated)).isInstanceOf(ImageException.class).hasMessageContaining(truncated.toString());

        Path empty = Files.write(tmp.resolve("empty.zip"), new byte[0]);
        assertThatThrownBy(() -> unzip(empty)).hasMessage("base image " + empty + " is empty (0 bytes), not a zip file");
        Path text = Files.writeString(tmp.resolve("text.zip"), "not a zip\n");
        assertThatThrownBy(() -> unzip(text)).isInstanceOf(ImageException.class)
                .hasMessageStartingWith("base image " + text + " is not a readable zip archive");
        Path two = tmp.resolve("two.zip");
        Files.copy(tmp.resolve("base.img"), tmp.resolve("other.img"));
        TestImages.ok(List.of("sh", "-c", "cd " + tmp + " && zip -q " + two + " base.img other.img"), null);
        assertThatThrownBy(() -> unzip(two)).hasMessage("base image " + two
                + " must hold exactly one .img, it holds 2: [base.img, other.img]");
    }

    private DataMap gunzip(Path gz) throws IOException {
        try (RandomAccessFile out = new RandomAccessFile(tmp.resolve("out.img").toFile(), "rw")) {
            return CompressedBase.gunzip(gz, out);
        }
    }

    @Test
    void gzipDamageIsRefusedAsGzipTestDoesNamingTheFile() throws Exception {
        ExternalTool.require("gzip");
        Path img = image();
        TestImages.ok(List.of("gzip", "-k", "-n", img.toString()), null);
        Path gz = tmp.resolve("base.img.gz");
        gunzip(gz);
        assertThat(Files.readAllBytes(tmp.resolve("out.img"))).isEqualTo(Files.readAllBytes(img));

        byte[] bytes = Files.readAllBytes(gz);
        Path trailer = flip(gz, tmp.resolve("trailer.img.gz"), bytes.length - 6);
        Path truncated = Files.write(tmp.resolve("truncated.img.gz"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Path empty = Files.write(tmp.resolve("empty.img.gz"), new byte[0]);
        Path text = Files.writeString(tmp.resolve("text.img.gz"), "not gzip at all\n");
        for (Path bad : List.of(trailer, truncated, empty, text)) {
            assertThat(TestImages.run(List.of("gzip", "-t", bad.toString()), null).exitCode()).as(bad.toString()).isNotZero();
            assertThatThrownBy(() -> gunzip(bad)).as(bad.toString()).isInstanceOf(ImageException.class)
                    .hasMessageStartingWith("base image " + bad + " is ").hasMessageNotContaining("null");
        }
        assertThatThrownBy(() -> gunzip(trailer)).hasMessageContaining("damaged").hasMessageContaining("CRC-32");
        assertThatThrownBy(() -> gunzip(truncated)).hasMessageContaining("truncated");
        assertThatThrownBy(() -> gunzip(empty)).hasMessageContaining("empty (0 bytes)");
        assertThatThrownBy(() -> gunzip(text)).hasMessageContaining("not a gzip file");
    }
}
