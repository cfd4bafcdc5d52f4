package io.piimage.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A node's changes to its base image, held in memory: a channel that reads the base (with the changes
 * made so far laid over it) and keeps every write instead of writing it. The changes are captured
 * before the node's image is written, so the copy can lay them over the base's bytes as it goes and
 * hash the image's final bytes in the same pass: no second read of the image for its SHA-256.
 */
final class Overlay {

    /** Writes by start offset; a later write replaces the bytes of an earlier one where they overlap. */
    private final TreeMap<Long, byte[]> writes = new TreeMap<>();

    private Overlay() {
    }

    /** Captures what {@code volume} would write into a copy of {@code base}; {@code base} is only read. */
    static Overlay capture(Fat32Volume volume, FileChannel base) throws IOException {
        Overlay overlay = new Overlay();
        volume.writeChanges(overlay.new Capturing(base));
        return overlay;
    }

    private void put(long at, byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        long end = at + bytes.length;
        // Cut what the new write covers out of earlier ones (FAT sectors are rewritten whole, so this is rare).
        Map.Entry<Long, byte[]> before = writes.lowerEntry(at);
        if (before != null && before.getKey() + before.getValue().length > at) {
            byte[] old = before.getValue();
            long oldEnd = before.getKey() + old.length;
            writes.put(before.getKey(), java.util.Arrays.copyOf(old, (int) (at - before.getKey())));
            if (oldEnd > end) {
                writes.put(end, java.util.Arrays.copyOfRange(old, (int) (end - before.getKey()), old.length));
            }
        }
        for (Map.Entry<Long, byte[]> e = writes.ceilingEntry(at); e != null && e.getKey() < end; e = writes.ceilingEntry(at)) {
            writes.remove(e.getKey());
            long eEnd = e.getKey() + e.getValue().length;
            if (eEnd > end) {
                writes.put(end, java.util.Arrays.copyOfRange(e.getValue(), (int) (end - e.getKey()), e.getValue().length));
            }
        }
        writes.put(at, bytes);
    }

    /** The written ranges as {start, end} (end exclusive), ascending and not overlapping. */
    List<long[]> ranges() {
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<Long, byte[]> e : writes.entrySet()) {
            long start = e.getKey();
            long end = start + e.getValue().length;
            long[] last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
            if (last != null && last[1] == start) {
                last[1] = end;
            } else {
                ranges.add(new long[] {start, end});
            }
        }
        return ranges;
    }

    /** Lays the changes over {@code buffer} (position to limit), which holds the image's bytes from {@code at}. */
    void patch(ByteBuffer buffer, long at) {
        long end = at + buffer.remaining();
        Map.Entry<Long, byte[]> first = writes.lowerEntry(at);
        Long from = first != null && first.getKey() + first.getValue().length > at ? first.getKey() : Long.valueOf(at);
        for (Map.Entry<Long, byte[]> e : writes.subMap(from, true, end, false).entrySet()) {
            long start = Math.max(at, e.getKey());
            long stop = Math.min(end, e.getKey() + e.getValue().length);
            if (stop <= start) {
                continue;
            }
            buffer.put(buffer.position() + (int) (start - at), e.getValue(), (int) (start - e.getKey()), (int) (stop - start));
        }
    }

    /** Positional reads and writes only: what {@link Fat32Volume#writeChanges} uses. */
    private final class Capturing extends FileChannel {
        private final FileChannel base;

        Capturing(FileChannel base) {
            this.base = base;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            ByteBuffer view = dst.slice();
            int n = base.read(view, position);
            if (n > 0) {
                view.flip();
                patch(view, position);
                dst.position(dst.position() + n);
            }
            return n;
        }

        @Override
        public int write(ByteBuffer src, long position) {
            byte[] bytes = new byte[src.remaining()];
            src.get(bytes);
            put(position, bytes);
            return bytes.length;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public int read(ByteBuffer dst) {
            throw unsupported();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw unsupported();
        }

        @Override
        public int write(ByteBuffer src) {
            throw unsupported();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw unsupported();
        }

        @Override
        public long position() {
            throw unsupported();
        }

        @Override
        public FileChannel position(long newPosition) {
            throw unsupported();
        }

        @Override
        public FileChannel truncate(long size) {
            throw unsupported();
        }

        @Override
        public void force(boolean metaData) {
            // nothing is written
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw unsupported();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw unsupported();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw unsupported();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw unsupported();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw unsupported();
        }

        @Override
        protected void implCloseChannel() {
            // the base belongs to the caller
        }

        private UnsupportedOperationException unsupported() {
            return new UnsupportedOperationException("a captured image change writes and reads by position only");
        }
    }
}
