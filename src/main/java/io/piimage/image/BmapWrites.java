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

/**
 * The byte ranges written into a node image on top of the base's data: a node's boot partition gets
 * new clusters where the base had zeros (holes in its {@link DataMap}), and its bmap must map them.
 * {@link #recording(FileChannel)} wraps the image's channel and notes every positional write.
 */
public final class BmapWrites {

    private final List<long[]> ranges = new ArrayList<>();

    /** The ranges written so far, as {start, end} (end exclusive), in the order written. */
    public synchronized List<long[]> ranges() {
        return List.copyOf(ranges);
    }

    synchronized void add(long start, long end) {
        if (end > start) {
            ranges.add(new long[] {start, end});
        }
    }

    /** {@code channel}, noting every write made through it (positional or at its position). */
    FileChannel recording(FileChannel channel) {
        return new Recording(channel);
    }

    private final class Recording extends FileChannel {
        private final FileChannel d;

        Recording(FileChannel delegate) {
            this.d = delegate;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return d.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return d.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            long at = d.position();
            int n = d.write(src);
            add(at, at + n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long at = d.position();
            long n = d.write(srcs, offset, length);
            add(at, at + n);
            return n;
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            d.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            d.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return d.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            long n = d.transferFrom(src, position, count);
            add(position, position + n);
            return n;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return d.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int n = d.write(src, position);
            add(position, position + n);
            return n;
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException("a recorded image channel is not mapped");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return d.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return d.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() {
            // the delegate belongs to the caller
        }
    }
}
