package io.piimage.image;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

/**
 * A base image as downloaded ({@code .img.gz}, {@code .zip}), copied out into a sparse raw file. Damage is
 * refused, never passed on to the node images: a zip entry's data is checked against its CRC-32 and sizes
 * the way {@code unzip -t} checks it, and its local header (or data descriptor) must agree with the
 * central directory; gzip's own trailer check covers {@code .gz}. Every refusal names the file and says
 * what is wrong ({@link ImageException}); the caller deletes the partial raw file.
 */
public final class CompressedBase {

    private static final int BLOCK = 1 << 16;
    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int DATA_DESCRIPTOR = 0x08074b50;
    private static final long ZIP64_MAGIC = 0xFFFFFFFFL;

    private CompressedBase() {
    }

    /** Decompresses {@code gz} into {@code out} from position 0. */
    public static DataMap gunzip(Path gz, RandomAccessFile out) throws IOException {
        refuseEmpty(gz, "gzip");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), BLOCK)) {
            return DataMap.copySparse(in, out);
        } catch (EOFException e) {
            throw new ImageException("base image " + gz + " is truncated: its gzip data ends before the end of"
                    + " the compressed stream", e);
        } catch (ZipException e) {
            String message = String.valueOf(e.getMessage());
            if (message.equals("Not in GZIP format")) {
                throw new ImageException("base image " + gz + " is not a gzip file (it does not start with the"
                        + " gzip signature 1f 8b)", e);
            }
            if (message.equals("Corrupt GZIP trailer")) {
                throw new ImageException("base image " + gz + " is damaged: the CRC-32 or length in its gzip"
                        + " trailer does not match the decompressed data", e);
            }
            throw new ImageException("base image " + gz + " is damaged: its gzip data cannot be decompressed ("
                    + message + ")", e);
        }
    }

    /**
     * Copies the one {@code .img} entry of {@code zip} into {@code out} from position 0, verified: method
     * stored or deflated, local header where the central directory says, CRC-32, compressed and
     * uncompressed sizes all as recorded (in the central directory and in the local header or data
     * descriptor).
     */
    public static DataMap unzip(Path zip, RandomAccessFile out) throws IOException {
        refuseEmpty(zip, "zip");
        try (ZipFile archive = open(zip); FileChannel channel = FileChannel.open(zip, StandardOpenOption.READ)) {
            List<ZipArchiveEntry> images = new ArrayList<>();
            for (ZipArchiveEntry e : Collections.list(archive.getEntries())) {
                if (!e.isDirectory() && e.getName().toLowerCase(Locale.ROOT).endsWith(".img")) {
                    images.add(e);
                }
            }
            if (images.size() != 1) {
                throw new ImageException("base image " + zip + " must hold exactly one .img, it holds "
                        + images.size() + (images.isEmpty() ? "" : ": " + images.stream().map(ZipArchiveEntry::getName).toList()));
            }
            return copyVerified(zip, channel, images.get(0), out);
        }
    }

    /** An empty file is said to be empty, not "not in gzip format" or "File format not recognized". */
    public static void refuseEmpty(Path file, String format) throws IOException {
        if (Files.size(file) == 0) {
            throw new ImageException("base image " + file + " is empty (0 bytes), not a " + format + " file");
        }
    }

    private static ZipFile open(Path zip) throws IOException {
        try {
            // Only the central directory: the local header is read and checked below, for the one entry used.
            return ZipFile.builder().setPath(zip).setIgnoreLocalFileHeader(true).get();
        } catch (FileSystemException e) {
            throw e; // not readable at all: the caller's message for file errors applies
        } catch (IOException e) {
            throw new ImageException("base image " + zip + " is not a readable zip archive: " + e.getMessage(), e);
        }
    }

    private static DataMap copyVerified(Path zip, FileChannel channel, ZipArchiveEntry entry, RandomAccessFile out)
            throws IOException {
        String what = "base image " + zip + ": " + entry.getName();
        int method = entry.getMethod();
        if (method != ZipArchiveEntry.STORED && method != ZipArchiveEntry.DEFLATED) {
            throw new ImageException(what + " is compressed with zip method " + method
                    + "; only stored and deflated entries (what zip makes) are read");
        }
        if (entry.getGeneralPurposeBit().usesEncryption()) {
            throw new ImageException(what + " is encrypted");
        }
        long crc = entry.getCrc();
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        if (crc < 0 || size < 0 || compressed < 0) {
            throw new ImageException(what + ": the central directory does not record its CRC-32 and sizes (damaged archive)");
        }
        long dataStart = checkLocalRecords(channel, entry, what, crc, size, compressed);
        if (dataStart + compressed > channel.size()) {
            throw new ImageException(what + " is truncated: its " + compressed + " compressed bytes would end at byte "
                    + (dataStart + compressed) + " but the file has " + channel.size());
        }
        InputStream raw = new Bounded(Channels.newInputStream(channel.position(dataStart)), compressed);
        Inflater inflater = method == ZipArchiveEntry.DEFLATED ? new Inflater(true) : null;
        CRC32 checksum = new CRC32();
        DataMap data;
        long consumed = compressed;
        try (InputStream in = new CheckedInputStream(inflater != null ? new InflaterInputStream(raw, inflater, BLOCK) : raw,
                checksum)) {
            // One byte more than recorded: more data than the records say is damage, not a longer image.
            data = DataMap.copySparse(in, out, size + 1, ProgressListener.NONE);
            if (inflater != null) {
                if (data.size() <= size && !inflater.finished()) {
                    throw new ImageException(what + " is damaged: its deflated data stops before its end marker");
                }
                consumed = inflater.getBytesRead();
            }
        } catch (EOFException e) {
            throw new ImageException(what + " is damaged: its deflated data ends early (" + compressed
                    + " compressed bytes recorded)", e);
        } catch (ZipException e) {
            throw new ImageException(what + " is damaged: its deflated data is invalid (" + e.getMessage() + ")", e);
        } finally {
            if (inflater != null) {
                inflater.end();
            }
        }
        if (data.size() != size) {
            throw new ImageException(what + " is damaged: its data decompresses to "
                    + (data.size() > size ? "more than " + size : String.valueOf(data.size())) + " bytes, its zip records say "
                    + size);
        }
        if (consumed != compressed) {
            throw new ImageException(what + " is damaged: its deflated data ends after " + consumed
                    + " of the " + compressed + " compressed bytes recorded");
        }
        if (checksum.getValue() != crc) {
            throw new ImageException(String.format("%s is damaged: its data has CRC-32 %08x, its zip records say %08x"
                    + " (the same error `unzip -t` reports as bad CRC)", what, checksum.getValue(), crc));
        }
        return data;
    }

    /**
     * Checks the entry's local header, and its data descriptor if it has one, against the central
     * directory; returns where the entry's data starts.
     */
    private static long checkLocalRecords(FileChannel channel, ZipArchiveEntry entry, String what, long crc,
                                          long size, long compressed) throws IOException {
        long at = entry.getLocalHeaderOffset();
        ByteBuffer header = read(channel, at, 30, what, "local header");
        if (header.getInt(0) != LOCAL_HEADER) {
            throw new ImageException(what + ": no local header at byte " + at + " where the central directory"
                    + " points (damaged archive)");
        }
        int flags = header.getShort(6) & 0xFFFF;
        int method = header.getShort(8) & 0xFFFF;
        int nameLength = header.getShort(26) & 0xFFFF;
        int extraLength = header.getShort(28) & 0xFFFF;
        if (method != entry.getMethod()) {
            throw new ImageException(what + ": its local header says zip method " + method + ", the central directory "
                    + entry.getMethod() + " (damaged archive)");
        }
        ByteBuffer extra = read(channel, at + 30 + nameLength, extraLength, what, "local header");
        long[] zip64 = zip64Sizes(extra); // {size, compressed} or null
        long dataStart = at + 30 + nameLength + extraLength;
        long localCrc;
        long localSize;
        long localCompressed;
        String record;
        if ((flags & 0x08) == 0) {
            record = "local header";
            localCrc = Integer.toUnsignedLong(header.getInt(14));
            localCompressed = Integer.toUnsignedLong(header.getInt(18));
            localSize = Integer.toUnsignedLong(header.getInt(22));
            if (zip64 != null && localSize == ZIP64_MAGIC) {
                localSize = zip64[0];
            }
            if (zip64 != null && localCompressed == ZIP64_MAGIC) {
                localCompressed = zip64[1];
            }
        } else {
            // Written after the data by zip into a pipe: CRC-32 and sizes, optionally signed, 8-byte sizes for zip64.
            record = "data descriptor";
            int sizeBytes = zip64 != null ? 8 : 4;
            ByteBuffer d = read(channel, dataStart + compressed, 4 + 4 + 2 * sizeBytes, what, record);
            int skip = d.getInt(0) == DATA_DESCRIPTOR && Integer.toUnsignedLong(d.getInt(4)) == crc ? 4 : 0;
            if (skip == 0) {
                d = read(channel, dataStart + compressed, 4 + 2 * sizeBytes, what, record);
            }
            localCrc = Integer.toUnsignedLong(d.getInt(skip));
            localCompressed = sizeBytes == 8 ? d.getLong(skip + 4) : Integer.toUnsignedLong(d.getInt(skip + 4));
            localSize = sizeBytes == 8 ? d.getLong(skip + 4 + sizeBytes) : Integer.toUnsignedLong(d.getInt(skip + 4 + sizeBytes));
        }
        if (localCrc != crc || localSize != size || localCompressed != compressed) {
            throw new ImageException(String.format("%s: its %s (CRC-32 %08x, %d bytes, %d compressed) disagrees with"
                            + " the central directory (CRC-32 %08x, %d bytes, %d compressed): damaged archive",
                    what, record, localCrc, localSize, localCompressed, crc, size, compressed));
        }
        return dataStart;
    }

    /** The sizes of a local header's zip64 extra field (id 1): {uncompressed, compressed}, or null. */
    private static long[] zip64Sizes(ByteBuffer extra) {
        for (int i = 0; i + 4 <= extra.limit(); ) {
            int id = extra.getShort(i) & 0xFFFF;
            int length = extra.getShort(i + 2) & 0xFFFF;
            if (id == 1 && length >= 16 && i + 4 + 16 <= extra.limit()) {
                return new long[] {extra.getLong(i + 4), extra.getLong(i + 12)};
            }
            i += 4 + length;
        }
        return null;
    }

    private static ByteBuffer read(FileChannel channel, long at, int length, String what, String record)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) {
                throw new ImageException(what + " is truncated: the file ends inside its " + record);
            }
        }
        return b.flip();
    }

    /** At most {@code remaining} bytes of {@code in}; never closes the shared channel early. */
    private static final class Bounded extends FilterInputStream {
        private long remaining;

        Bounded(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() {
            // The channel belongs to the caller.
        }
    }
}
