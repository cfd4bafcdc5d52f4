package io.piimage.image;

import io.piimage.util.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A block map (bmap format 2.0, as bmaptool reads it) of a node image: the 4 KiB blocks that hold
 * data, as ranges each with its SHA-256, so {@code bmaptool copy --bmap X.img.bmap X.img /dev/sdX}
 * writes only those blocks and verifies them. The ranges are the base's {@link DataMap} plus what the
 * node's boot partition changes wrote ({@link BmapWrites}); nothing else differs from the base.
 *
 * <p>A range the node did not write is the base's bytes, the same in every node image: its SHA-256
 * is computed once per base ({@link Hashes}) and shared, so a node costs only the hashing of the
 * ranges its changes touched.
 */
public final class Bmap {

    /** bmaptool's usual block size; DataMap's 64 KiB runs are whole multiples of it. */
    public static final int BLOCK_SIZE = 4096;
    /** The suffix beside {@code <node>.img}: the map is of the raw image, whatever its compression. */
    public static final String SUFFIX = ".bmap";

    private final long imageSize;
    private final long[] ranges; // first0, last0, first1, last1, ... block numbers, inclusive, ascending
    private final boolean[] touched; // per range: holds a byte the node wrote

    private Bmap(long imageSize, long[] ranges, boolean[] touched) {
        this.imageSize = imageSize;
        this.ranges = ranges;
        this.touched = touched;
    }

    /** The map of an image made from a base with {@code base} as its data map and {@code written} on top. */
    public static Bmap of(DataMap base, List<long[]> written) {
        long size = base.size();
        List<long[]> bytes = new ArrayList<>();
        for (int i = 0; i < base.runCount(); i++) {
            bytes.add(new long[] {base.runStart(i), base.runEnd(i), 0});
        }
        for (long[] w : written) {
            if (w[0] < 0 || w[1] > size) {
                throw new IllegalArgumentException("a write at " + w[0] + "-" + w[1] + " is outside the image (" + size + " bytes)");
            }
            bytes.add(new long[] {w[0], w[1], 1});
        }
        bytes.sort((a, b) -> Long.compare(a[0], b[0]));
        long[] out = new long[bytes.size() * 2];
        boolean[] mark = new boolean[bytes.size()];
        int n = 0;
        for (long[] r : bytes) {
            long first = r[0] / BLOCK_SIZE;
            long last = (r[1] - 1) / BLOCK_SIZE;
            // Adjacent or overlapping block ranges become one, as bmaptool's own maps have them.
            if (n > 0 && first <= out[2 * n - 1] + 1) {
                out[2 * n - 1] = Math.max(out[2 * n - 1], last);
                mark[n - 1] |= r[2] == 1;
            } else {
                out[2 * n] = first;
                out[2 * n + 1] = last;
                mark[n] = r[2] == 1;
                n++;
            }
        }
        return new Bmap(size, Arrays.copyOf(out, 2 * n), Arrays.copyOf(mark, n));
    }

    public long imageSize() {
        return imageSize;
    }

    public long blocksCount() {
        return (imageSize + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    public int rangeCount() {
        return ranges.length / 2;
    }

    public long firstBlock(int i) {
        return ranges[2 * i];
    }

    /** Inclusive. */
    public long lastBlock(int i) {
        return ranges[2 * i + 1];
    }

    public long mappedBlocksCount() {
        long total = 0;
        for (int i = 0; i < rangeCount(); i++) {
            total += lastBlock(i) - firstBlock(i) + 1;
        }
        return total;
    }

    /**
     * SHA-256s of the base's ranges, shared by every node image made from one base. Thread-safe: node
     * images are made side by side.
     */
    public static final class Hashes {
        private final Path base;
        private final Map<String, String> byRange = new ConcurrentHashMap<>();

        public Hashes(Path base) {
            this.base = base;
        }

        String of(long from, long to) {
            return byRange.computeIfAbsent(from + "-" + to, k -> {
                try {
                    return sha256(base, from, to);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    /** The bmap XML for {@code image} (the node image this map describes), with every checksum. */
    public String render(Path image, Hashes baseHashes) throws IOException {
        if (Files.size(image) != imageSize) {
            throw new IllegalArgumentException(image + " has " + Files.size(image) + " bytes, the map is of " + imageSize);
        }
        StringBuilder map = new StringBuilder();
        for (int i = 0; i < rangeCount(); i++) {
            long from = firstBlock(i) * BLOCK_SIZE;
            long to = Math.min((lastBlock(i) + 1) * BLOCK_SIZE, imageSize);
            String sha;
            try {
                sha = touched[i] ? sha256(image, from, to) : baseHashes.of(from, to);
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            String blocks = firstBlock(i) == lastBlock(i) ? Long.toString(firstBlock(i)) : firstBlock(i) + "-" + lastBlock(i);
            map.append("        <Range chksum=\"").append(sha).append("\"> ").append(blocks).append(" </Range>\n");
        }
        // No "--" inside the comments: XML forbids it there.
        String zeros = "0".repeat(64);
        String text = "<?xml version=\"1.0\" ?>\n"
                + "<!-- The block map of a piimage node image: the blocks that hold data, each range with its\n"
                + "     SHA-256: bmaptool copy given this map writes only these and verifies them. -->\n"
                + "<bmap version=\"2.0\">\n"
                + "    <!-- Image size in bytes: " + human(imageSize) + " -->\n"
                + "    <ImageSize> " + imageSize + " </ImageSize>\n\n"
                + "    <!-- Size of a block in bytes -->\n"
                + "    <BlockSize> " + BLOCK_SIZE + " </BlockSize>\n\n"
                + "    <!-- Count of blocks in the image file -->\n"
                + "    <BlocksCount> " + blocksCount() + " </BlocksCount>\n\n"
                + "    <!-- Count of mapped blocks: " + human(mappedBlocksCount() * BLOCK_SIZE) + " -->\n"
                + "    <MappedBlocksCount> " + mappedBlocksCount() + " </MappedBlocksCount>\n\n"
                + "    <!-- Type of checksum used in this file -->\n"
                + "    <ChecksumType> sha256 </ChecksumType>\n\n"
                + "    <!-- The checksum of this bmap file, computed with this value all zeros -->\n"
                + "    <BmapFileChecksum> " + zeros + " </BmapFileChecksum>\n\n"
                + "    <!-- The mapped ranges of blocks (first-last, inclusive) and their SHA-256 -->\n"
                + "    <BlockMap>\n" + map + "    </BlockMap>\n"
                + "</bmap>\n";
        return text.replace(zeros, hex(Sha256.digest().digest(text.getBytes(StandardCharsets.UTF_8))));
    }

    /** Writes {@code <image>.bmap} beside {@code image} (uncompressed, before any compression) and returns it. */
    public Path writeBeside(Path image, Path bmapFile, Hashes baseHashes) throws IOException {
        // Owner-only like every output of a bake (its checksums say which blocks hold a control plane's keys).
        Files.deleteIfExists(bmapFile);
        Files.createFile(bmapFile, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.writeString(bmapFile, render(image, baseHashes), StandardCharsets.UTF_8);
        return bmapFile;
    }

    private static String human(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    static String sha256(Path file, long from, long to) throws IOException {
        MessageDigest digest = Sha256.digest();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = from; pos < to; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), to - pos));
                int n = in.read(buf, pos);
                if (n < 0) {
                    throw new ImageException(file + " ended at byte " + pos + " of " + to);
                }
                buf.flip();
                digest.update(buf);
                pos += n;
            }
        }
        return hex(digest.digest());
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
