package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataMapTest {

    static final int B = DataMap.BLOCK;

    @TempDir
    Path dir;

    @Test
    void runsCoverEveryNonZeroBlockAndNothingElse() throws Exception {
        Path image = dir.resolve("image.img");
        long size = 40L * B + 1000; // a short last block
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
            FileChannel ch = f.getChannel();
            write(ch, 0, 1);                 // block 0
            write(ch, 3L * B + B - 1, 2);    // last byte of block 3 and first of block 4
            write(ch, 10L * B, B * 3);       // blocks 10..12
            write(ch, 18L * B, B * 4);       // blocks 18..21: across the middle, where the scan splits
            // block 30: written, but zeros: no data
            ch.write(ByteBuffer.allocate(B), 30L * B);
            write(ch, size - 1, 1);          // the short last block
        }
        DataMap map = DataMap.scan(image);
        assertSameRuns(DataMap.scan(image, false), map);
        List<long[]> runs = new ArrayList<>();
        for (int i = 0; i < map.runCount(); i++) {
            runs.add(new long[] {map.runStart(i), map.runEnd(i)});
        }
        assertThat(runs).containsExactly(
                new long[] {0, B},
                new long[] {3L * B, 5L * B},
                new long[] {10L * B, 13L * B},
                new long[] {18L * B, 22L * B},
                new long[] {40L * B, size});
        assertThat(map.size()).isEqualTo(size);
        assertThat(map.dataBytes()).isEqualTo(B + 2L * B + 3L * B + 4L * B + 1000);
    }

    @Test
    void aRunEndingExactlyAtTheMiddleStaysApartFromOneStartingAfterIt() throws Exception {
        Path image = dir.resolve("middle.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L * B);
            write(f.getChannel(), 30L * B, 2 * B);   // blocks 30, 31: ends at the middle (32)
            write(f.getChannel(), 33L * B, B);       // block 33
            write(f.getChannel(), 63L * B, B);       // the last block
        }
        DataMap map = DataMap.scan(image);
        assertThat(map.runCount()).isEqualTo(3);
        assertThat(new long[] {map.runStart(0), map.runEnd(0), map.runStart(1), map.runEnd(1), map.runStart(2), map.runEnd(2)})
                .containsExactly(30L * B, 32L * B, 33L * B, 34L * B, 63L * B, 64L * B);
    }

    @Test
    void anImageOfZerosHasNoRunsAndOneFullOfDataHasOne() throws Exception {
        Path zeros = dir.resolve("zeros.img");
        try (RandomAccessFile f = new RandomAccessFile(zeros.toFile(), "rw")) {
            f.setLength(5L * B);
        }
        Path full = dir.resolve("full.img");
        byte[] bytes = new byte[3 * B + 7];
        new Random(1).nextBytes(bytes);
        Arrays.fill(bytes, 0, 100, (byte) 0); // zeros inside a data block do not split it
        Files.write(full, bytes);
        assertThat(DataMap.scan(zeros).runCount()).isZero();
        DataMap map = DataMap.scan(full);
        assertThat(map.runCount()).isEqualTo(1);
        assertThat(map.runEnd(0) - map.runStart(0)).isEqualTo(bytes.length);
    }

    @Test
    void aSparseCopyOfAStreamHasTheSameBytesAndTheScansMapWhileHoldingOnlyTheData() throws Exception {
        int size = 50 * B + 123;
        byte[] bytes = new byte[size];
        Random random = new Random(7);
        for (int block : new int[] {0, 1, 7, 24, 25, 26, 49}) {
            byte[] some = new byte[B];
            random.nextBytes(some);
            System.arraycopy(some, 0, bytes, block * B, B);
        }
        bytes[size - 1] = 1; // the short last block
        Path copy = dir.resolve("copy.img");
        DataMap streamed;
        try (RandomAccessFile out = new RandomAccessFile(copy.toFile(), "rw")) {
            streamed = DataMap.copySparse(new java.io.ByteArrayInputStream(bytes), out);
        }
        assertThat(Files.readAllBytes(copy)).isEqualTo(bytes);
        assertSameRuns(DataMap.scan(copy), streamed);
        assertThat(streamed.dataBytes()).isEqualTo(7L * B + 123);
        // Blocks of zeros were skipped, not written: the file holds less than half its length.
        long allocated = Long.parseLong(TestImages.ok(List.of("stat", "-c", "%b", copy.toString()), null)
                .stdout().strip()) * 512;
        assertThat(allocated).as("allocated bytes").isLessThan(size / 2);
    }

    private static void assertSameRuns(DataMap actual, DataMap expected) {
        assertThat(actual.size()).isEqualTo(expected.size());
        assertThat(actual.runCount()).isEqualTo(expected.runCount());
        for (int i = 0; i < expected.runCount(); i++) {
            assertThat(actual.runStart(i)).isEqualTo(expected.runStart(i));
            assertThat(actual.runEnd(i)).isEqualTo(expected.runEnd(i));
        }
    }

    private static void write(FileChannel ch, long at, int length) throws Exception {
        byte[] data = new byte[length];
        Arrays.fill(data, (byte) 0x5a);
        ch.write(ByteBuffer.wrap(data), at);
    }
}
