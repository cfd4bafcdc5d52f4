package io.piimage.image;

import io.piimage.util.AtomicWrite;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Writes a node's image: a copy of a base Raspberry Pi image whose FAT32 boot partition (found by volume
 * label) has the node's files added and its text files edited. Every byte outside the clusters, FAT
 * sectors and FSInfo sector that changed is identical to the base.
 *
 * <p>Safety: with a {@link Path} base, every change is planned (and refused, see {@link ImageException})
 * against the base opened read-only before the output is even created. The output is built in a hidden
 * temp file next to it (owner-only permissions: boot partitions carry secrets), and
 * renamed into place atomically; on any failure the temp file is deleted and the output is absent.
 *
 * <p>The copy is sparse: 64 KiB blocks of zeros become holes, so a mostly empty image costs little disk.
 *
 * <p>Compressed bases ({@code .img.xz}): {@link #inject(InputStream, long, Path, BootPartitionChanges)}
 * copies the decompressed stream straight into the temp file and plans there; nothing is written to the
 * output name unless the plan succeeds. For many nodes, decompress once to a temp {@code .img} and use
 * the {@link Path} variant per node instead (no repeated decompression, refusals before any copy).
 */
public final class BootPartitionInjector {

    static final int BLOCK = 64 * 1024;
    static final long PROGRESS_STEP = 16L << 20;

    private final List<String> labels;
    private final LocalDateTime timestamp;
    private final ProgressListener progress;

    /**
     * What was done; {@code sha256}: of the whole image as written (hex), made while writing it; null
     * from a stream, whose copy is not hashed.
     */
    public record Result(int partitionNumber, String label, long changedBytes, long freeBytesAfter, String sha256) {
    }

    /**
     * @param labels    acceptable boot partition labels, e.g. {@code system-boot} (Ubuntu) and
     *                  {@code bootfs} (Raspberry Pi OS), compared case-insensitively
     * @param timestamp put on every file written (use {@link Fat32Volume#DEFAULT_TIMESTAMP} for
     *                  reproducible images)
     */
    public BootPartitionInjector(List<String> labels, LocalDateTime timestamp, ProgressListener progress) {
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("at least one boot partition label is needed");
        }
        this.labels = List.copyOf(labels);
        this.timestamp = timestamp;
        this.progress = progress;
    }

    /** Copies {@code base} to {@code output} with the changes applied; the base is only read. */
    public Result inject(Path base, Path output, BootPartitionChanges changes) throws IOException {
        return inject(base, DataMap.scan(base), output, changes);
    }

    /**
     * Like {@link #inject(Path, Path, BootPartitionChanges)} with the base's {@link DataMap} already
     * known, so that many node images from one base read it only once: each copy moves just the data
     * runs (with the node's changes laid over them) and leaves everything else a hole, hashing the
     * image as it goes ({@link Result#sha256()}).
     */
    public Result inject(Path base, DataMap data, Path output, BootPartitionChanges changes) throws IOException {
        return inject(base, base.toString(), data, output, changes, null);
    }

    /**
     * Like {@link #inject(Path, DataMap, Path, BootPartitionChanges)}, with refusals naming the base as
     * {@code baseName} (the file the user gave when {@code base} is its decompressed temp copy), noting in
     * {@code written} (if not null) what the changes wrote, for a bmap.
     */
    public Result inject(Path base, String baseName, DataMap data, Path output, BootPartitionChanges changes,
            BmapWrites written)
            throws IOException {
        Path absOut = output.toAbsolutePath();
        if (Files.exists(absOut) && Files.isSameFile(base, absOut)) {
            throw new ImageException("the output " + output + " is the base image itself");
        }
        try (FileChannel in = FileChannel.open(base, StandardOpenOption.READ)) {
            if (in.size() != data.size()) {
                throw new IllegalArgumentException("the data map is of another image (" + data.size() + " bytes, "
                        + base + " has " + in.size() + ")");
            }
            Plan plan = plan(in, changes, baseName);
            // The node's changes, captured before the copy: the copy lays them over the base's bytes
            // and hashes the image's final bytes as it writes them.
            Overlay overlay = Overlay.capture(plan.volume, in);
            return writeAtomically(absOut, (out, file) -> {
                file.setLength(data.size());
                String sha256 = copyHashing(in, out, data, overlay);
                if (written != null) {
                    for (long[] range : overlay.ranges()) {
                        written.add(range[0], range[1]);
                    }
                }
                return plan.result(sha256);
            });
        }
    }

    /** Zeros for hashing the holes: small enough to stay in the CPU's cache. */
    private static final byte[] ZEROS = new byte[BLOCK];

    /**
     * Writes the base's data runs and the overlay's ranges (in one ascending pass, through one buffer) and
     * returns the SHA-256 of the whole image as written: data, changes and the holes between them, which
     * read as zeros. Hashing is the cost of a manifest Imager can verify; reading the image back for it
     * would double the bytes moved.
     */
    private String copyHashing(FileChannel in, FileChannel out, DataMap data, Overlay overlay) throws IOException {
        MessageDigest sha = sha256();
        List<long[]> ranges = merge(data, overlay.ranges());
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long total = data.dataBytes();
        long done = 0;
        long nextReport = 0;
        long hashed = 0;
        for (long[] range : ranges) {
            hashZeros(sha, range[0] - hashed);
            for (long pos = range[0]; pos < range[1]; ) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), range[1] - pos));
                while (buffer.hasRemaining()) {
                    if (in.read(buffer, pos + buffer.position()) < 0) {
                        throw new ImageException("the base image ended at byte " + (pos + buffer.position()) + " of " + data.size());
                    }
                }
                buffer.flip();
                overlay.patch(buffer, pos);
                sha.update(buffer.duplicate());
                int n = buffer.remaining();
                while (buffer.hasRemaining()) {
                    out.write(buffer, pos + buffer.position());
                }
                pos += n;
                done += n;
                if (done >= nextReport) {
                    progress.progress(Math.min(done, total), total);
                    nextReport = done + PROGRESS_STEP;
                }
            }
            hashed = range[1];
        }
        hashZeros(sha, data.size() - hashed);
        progress.progress(total, total);
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The data runs and the written ranges together, ascending, overlapping ones joined. */
    private static List<long[]> merge(DataMap data, List<long[]> written) {
        List<long[]> all = new ArrayList<>(data.runCount() + written.size());
        for (int i = 0; i < data.runCount(); i++) {
            all.add(new long[] {data.runStart(i), data.runEnd(i)});
        }
        all.addAll(written);
        all.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> merged = new ArrayList<>();
        for (long[] r : all) {
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && r[0] <= last[1]) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                merged.add(new long[] {r[0], r[1]});
            }
        }
        return merged;
    }

    private static void hashZeros(MessageDigest sha, long count) {
        for (long left = count; left > 0; left -= ZEROS.length) {
            sha.update(ZEROS, 0, (int) Math.min(ZEROS.length, left));
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Like {@link #inject(Path, Path, BootPartitionChanges)} from a stream (e.g. an xz decompressor);
     * the stream is read to its end and not closed.
     *
     * @param size the stream's length for progress reports, or -1 if unknown
     */
    public Result inject(InputStream base, long size, Path output, BootPartitionChanges changes) throws IOException {
        return writeAtomically(output.toAbsolutePath(), (out, file) -> {
            long copied = DataMap.copySparse(base, file, size, progress).size();
            if (size >= 0 && copied != size) {
                throw new ImageException("the base image ended after " + copied + " of " + size + " bytes");
            }
            Plan plan = plan(out, changes, "the image stream");
            plan.volume.writeChanges(out);
            return plan.result(null);
        });
    }

    // ---------------------------------------------------------------- planning

    private record Plan(Fat32Volume volume, MbrPartitionTable.Partition partition, String label) {
        Result result(String sha256) {
            return new Result(partition.number(), label, volume.changedBytes(), volume.freeBytes(), sha256);
        }
    }

    /**
     * Finds the boot partition and stages every change in memory; throws before anything is written,
     * with the image's name first in the message.
     */
    private Plan plan(FileChannel image, BootPartitionChanges changes, String imageName) throws IOException {
        try {
            return plan(image, changes);
        } catch (ImageException e) {
            throw new ImageException(imageName + ": " + e.getMessage(), e);
        }
    }

    private Plan plan(FileChannel image, BootPartitionChanges changes) throws IOException {
        MbrPartitionTable table = MbrPartitionTable.read(image);
        List<String> found = new ArrayList<>();
        for (MbrPartitionTable.Partition p : table.partitions()) {
            String type = Fat32Volume.identify(image, p.byteOffset());
            if (!type.equals("FAT32")) {
                String label = Fat32Volume.bootSectorLabel(image, p.byteOffset()).orElse(null);
                if (label != null && matches(label)) {
                    throw new ImageException("partition " + p + " is labelled '" + label
                            + "' but holds " + type + "; only FAT32 boot partitions are supported");
                }
                found.add(p + " " + type + (label != null ? " '" + label + "'" : ""));
                continue;
            }
            Fat32Volume volume;
            try {
                volume = Fat32Volume.open(image, p.byteOffset(), p.byteLength(), timestamp);
            } catch (ImageException e) {
                throw new ImageException("partition " + p + ": " + e.getMessage(), e);
            }
            String label = volume.label().orElse("");
            if (matches(label)) {
                apply(volume, changes, label, p);
                return new Plan(volume, p, label);
            }
            found.add(p + " FAT32 " + (label.isEmpty() ? "without label" : "'" + label + "'"));
        }
        throw new ImageException("no FAT32 boot partition labelled " + String.join(" or ", quoted(labels))
                + "; found: " + (found.isEmpty() ? "no partitions" : String.join(", ", found)));
    }

    private boolean matches(String label) {
        return labels.stream().anyMatch(label::equalsIgnoreCase);
    }

    private static List<String> quoted(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").toList();
    }

    private static void apply(Fat32Volume volume, BootPartitionChanges changes, String label,
                              MbrPartitionTable.Partition p) throws IOException {
        // Edits first, in memory: they read the base's text files.
        Map<String, byte[]> writes = new LinkedHashMap<>(changes.files());
        for (Map.Entry<String, UnaryOperator<String>> edit : changes.textEdits().entrySet()) {
            String path = edit.getKey();
            String needed = changes.editsNeeding().get(path);
            if (needed != null && !volume.exists(needed)) {
                continue;
            }
            if (!volume.exists(path)) {
                throw new ImageException("boot partition '" + label + "' has no " + path + " to edit");
            }
            String text = decode(volume.readFile(path), path);
            String edited = edit.getValue().apply(text);
            if (!edited.equals(text)) {
                writes.put(path, edited.getBytes(StandardCharsets.UTF_8));
            }
        }
        // The whole need against the free space first, so the refusal names the total.
        Set<String> newDirs = new LinkedHashSet<>();
        long clusters = 0;
        for (Map.Entry<String, byte[]> w : writes.entrySet()) {
            String path = BootPartitionChanges.normalize(w.getKey());
            String[] parts = path.split("/");
            for (int i = 1; i < parts.length; i++) {
                String dir = String.join("/", Arrays.copyOfRange(parts, 0, i));
                if (!volume.exists(dir)) {
                    newDirs.add(dir.toLowerCase(java.util.Locale.ROOT));
                }
            }
            clusters += volume.clustersFor(w.getValue().length) - volume.allocatedBytes(path) / volume.clusterSize();
        }
        clusters += newDirs.size();
        if (clusters > volume.freeClusters()) {
            throw new ImageException("boot partition '" + label + "' (p" + p.number() + ") has "
                    + Fat32Volume.kib(volume.freeBytes())
                    + " free, the node's files need " + Fat32Volume.kib(clusters * volume.clusterSize()));
        }
        for (Map.Entry<String, byte[]> w : writes.entrySet()) {
            String path = BootPartitionChanges.normalize(w.getKey());
            int slash = path.lastIndexOf('/');
            if (slash > 0) {
                volume.mkdirs(path.substring(0, slash));
            }
            volume.writeFile(path, w.getValue());
        }
    }

    private static String decode(byte[] bytes, String path) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ImageException(path + " on the boot partition is not UTF-8 text; refusing to edit it", e);
        }
    }

    // ---------------------------------------------------------------- output

    private interface OutputWriter {
        Result write(FileChannel out, RandomAccessFile file) throws IOException;
    }

    private Result writeAtomically(Path output, OutputWriter writer) throws IOException {
        Path dir = output.getParent();
        Path temp = Files.createTempFile(dir, "." + output.getFileName() + ".", ".partial");
        boolean done = false;
        try {
            Result result;
            try (RandomAccessFile file = new RandomAccessFile(temp.toFile(), "rw")) {
                result = writer.write(file.getChannel(), file);
            }
            // No fsync, like cp and dd: forcing every image to disk doubled the time per image, and an
            // image is an output that a bake makes again. The rename still means no half-written image
            // under the final name when a bake fails.
            AtomicWrite.replace(temp, output);
            done = true;
            return result;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
