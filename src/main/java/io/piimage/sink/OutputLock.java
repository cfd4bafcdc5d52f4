package io.piimage.sink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One bake at a time per output: a lock on {@code .<output>.lock} beside it, held from before the
 * first write until the output is in place. The kernel drops the lock when its holder dies, so a
 * killed bake never blocks the next one; the file is removed by the bake that held it.
 */
public final class OutputLock implements AutoCloseable {

    /** Another live bake holds the lock: the message says which and what to do. */
    public static final class BusyException extends IOException {
        BusyException(String message) {
            super(message);
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private OutputLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    public static Path lockFile(Path target) {
        Path absolute = target.toAbsolutePath().normalize();
        return absolute.resolveSibling("." + absolute.getFileName() + ".lock");
    }

    /** Takes the lock of {@code target}'s output, or fails at once with {@link BusyException}. */
    public static OutputLock acquire(Path target) throws IOException {
        Path file = lockFile(target);
        Files.createDirectories(file.getParent());
        // The holder deletes the file before it lets go: a lock taken on a file no longer at that
        // name guards nothing, so take it again on the one that is there now.
        for (int attempt = 0; attempt < 10; attempt++) {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by another bake in this same JVM
            }
            if (lock == null) {
                String holder = holder(channel);
                channel.close();
                throw new BusyException("another bake" + holder + " is writing " + target + " right now (lock "
                        + file + "); wait for it to finish, or choose another output with -o");
            }
            // Our own token through the channel, read back through the name: equal only if the name is this file.
            String token = Leftovers.name("");
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((token + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            if (token.equals(readName(file))) {
                return new OutputLock(file, channel, lock);
            }
            lock.release();
            channel.close();
        }
        throw new BusyException("cannot lock " + file + ": other bakes keep replacing it; try again");
    }

    private static String readName(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** " (process 4711 on pi)" from what the holder wrote into the lock file, or "" if it wrote nothing yet. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(128);
            channel.read(buffer, 0);
            return Leftovers.writer(new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).strip())
                    .map(w -> " (" + w + ")").orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(file);
        } finally {
            lock.release();
            channel.close();
        }
    }
}
