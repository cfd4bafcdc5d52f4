package io.piimage.image;

import com.sun.nio.file.ExtendedOpenOption;
import io.piimage.util.Threads;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Where a raw image holds data: the runs of 64 KiB blocks that are not all zeros. A Raspberry Pi image
 * is mostly empty space, so copying only these runs (and leaving the rest as holes) is what makes a
 * node image cheap. Scanned once per base image and shared by every node's copy.
 */
public final class DataMap {

    /** The granularity: a block of zeros this big becomes a hole in a copy. */
    public static final int BLOCK = BootPartitionInjector.BLOCK;
    private static final int CHUNK = 1 << 20;

    private final long size;
    private final long[] runs; // start0, end0, start1, end1, ... (end exclusive), ascending

    private DataMap(long size, long[] runs) {
        this.size = size;
        this.runs = runs;
    }

    /**
     * Reads the whole image once, in two halves side by side. Where the file system allows it the reads
     * bypass the page cache (O_DIRECT): a hole then costs the kernel a zero-filled buffer instead of
     * 2 GiB of fresh cache pages, which on a new base image took 4.9 s here against 0.3 s.
     */
    public static DataMap scan(Path image) throws IOException {
        return scan(image, true);
    }

    /** {@code allowDirect} false: through the page cache only (tests compare both ways). */
    static DataMap scan(Path image, boolean allowDirect) throws IOException {
        FileChannel direct = null;
        int align = 1;
        try {
            align = Math.toIntExact(Files.getFileStore(image).getBlockSize());
            if (allowDirect && align <= BLOCK && BLOCK % align == 0) {
                direct = FileChannel.open(image, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
            }
        } catch (IOException | UnsupportedOperationException | ArithmeticException e) {
            direct = null; // e.g. tmpfs: read through the page cache instead
        }
        if (direct != null) {
            try (FileChannel in = direct) {
                return scan(in, align);
            } catch (IOException e) {
                // Some file systems accept O_DIRECT at open and refuse the reads: fall back.
            }
        }
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            return scan(in, 1);
        }
    }

    private static DataMap scan(FileChannel image, int align) throws IOException {
        long size = image.size();
        long half = size / 2 / CHUNK * CHUNK;
        if (half < CHUNK) {
            return new DataMap(size, scan(image, align, 0, size));
        }
        java.util.concurrent.CompletableFuture<long[]> second = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return scan(image, align, half, size);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, task -> Threads.daemon("piimage-scan").newThread(task).start());
        long[] first = scan(image, align, 0, half);
        long[] rest;
        try {
            rest = second.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException io) {
                throw io.getCause();
            }
            throw e;
        }
        // A run that crosses the middle was cut in two: join it again.
        if (first.length > 0 && rest.length > 0 && first[first.length - 1] == rest[0]) {
            long[] joined = Arrays.copyOf(first, first.length + rest.length - 2);
            joined[first.length - 1] = rest[1];
            System.arraycopy(rest, 2, joined, first.length, rest.length - 2);
            return new DataMap(size, joined);
        }
        long[] all = Arrays.copyOf(first, first.length + rest.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return new DataMap(size, all);
    }

    /**
     * The runs of [from, to) as start, end pairs. {@code from} is a multiple of {@link #CHUNK}; with
     * O_DIRECT every read is a whole aligned chunk, and only the end of the file comes back short.
     */
    private static long[] scan(FileChannel image, int align, long from, long to) throws IOException {
        Runs runs = new Runs();
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK + align).alignedSlice(align);
        ByteBuffer zeros = ByteBuffer.allocateDirect(BLOCK);
        for (long pos = from; pos < to; ) {
            int want = (int) Math.min(CHUNK, to - pos);
            chunk.clear();
            if (align == 1) {
                chunk.limit(want);
            }
            while (chunk.position() < want) {
                if (image.read(chunk, pos + chunk.position()) < 0) {
                    throw new ImageException("the image ended after " + (pos + chunk.position()) + " of " + to + " bytes");
                }
            }
            for (int off = 0; off < want; off += BLOCK) {
                int len = Math.min(BLOCK, want - off);
                runs.block(pos + off, chunk.slice(off, len).mismatch(zeros.slice(0, len)) < 0);
            }
            pos += want;
        }
        return runs.end(to);
    }

    /**
     * Copies a stream (a decompressor's output) into {@code out} from position 0, writing only the
     * blocks that are not all zeros, so the file is sparse, and returns where its data is: a
     * decompressed base needs no second read to be mapped, and its holes never enter the page cache.
     * Sets {@code out}'s length to the bytes copied.
     */
    public static DataMap copySparse(InputStream in, java.io.RandomAccessFile out) throws IOException {
        return copySparse(in, out, -1, ProgressListener.NONE);
    }

    /**
     * Like {@link #copySparse(InputStream, java.io.RandomAccessFile)}, reading at most {@code limit}
     * bytes (-1: to the end), with {@code progress} told of the bytes read so far out of {@code limit}.
     */
    static DataMap copySparse(InputStream in, java.io.RandomAccessFile out, long limit, ProgressListener progress)
            throws IOException {
        FileChannel channel = out.getChannel();
        byte[] buf = new byte[BLOCK];
        byte[] zeros = new byte[BLOCK];
        Runs runs = new Runs();
        long pos = 0;
        long nextReport = 0;
        int n;
        while ((limit < 0 || pos < limit)
                && (n = in.readNBytes(buf, 0, limit < 0 ? BLOCK : (int) Math.min(BLOCK, limit - pos))) > 0) {
            boolean zero = Arrays.mismatch(buf, 0, n, zeros, 0, n) < 0;
            if (!zero) {
                Fat32Volume.writeFully(channel, pos, ByteBuffer.wrap(buf, 0, n));
            }
            runs.block(pos, zero);
            pos += n;
            if (pos >= nextReport) {
                progress.progress(pos, limit);
                nextReport = pos + BootPartitionInjector.PROGRESS_STEP;
            }
        }
        out.setLength(pos); // a trailing run of zeros becomes a hole too
        progress.progress(pos, limit < 0 ? pos : limit);
        return new DataMap(pos, runs.end(pos));
    }

    /** Collects runs block by block, in ascending order. */
    private static final class Runs {
        private long[] pairs = new long[16];
        private int count;
        private long start = -1;

        void block(long at, boolean zero) {
            if (!zero && start < 0) {
                start = at;
            } else if (zero && start >= 0) {
                close(at);
            }
        }

        long[] end(long at) {
            if (start >= 0) {
                close(at);
            }
            return Arrays.copyOf(pairs, count);
        }

        private void close(long at) {
            if (count + 2 > pairs.length) {
                pairs = Arrays.copyOf(pairs, pairs.length * 2);
            }
            pairs[count++] = start;
            pairs[count++] = at;
            start = -1;
        }
    }

    /** The image's length in bytes. */
    public long size() {
        return size;
    }

    /** How many runs of data there are. */
    public int runCount() {
        return runs.length / 2;
    }

    public long runStart(int i) {
        return runs[2 * i];
    }

    /** Exclusive. */
    public long runEnd(int i) {
        return runs[2 * i + 1];
    }

    /** Bytes in data runs: what a copy reads and writes. */
    public long dataBytes() {
        long total = 0;
        for (int i = 0; i < runCount(); i++) {
            total += runEnd(i) - runStart(i);
        }
        return total;
    }
}
