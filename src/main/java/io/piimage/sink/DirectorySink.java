package io.piimage.sink;

import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import io.piimage.util.FileTrees;
import io.piimage.util.Threads;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes the tree into a directory: first into a hidden sibling, then renamed into place. An earlier
 * bake's output is replaced; any other existing directory is refused, so a mistyped {@code -o ~} cannot
 * wipe a home directory. Everything is private (0700/0600): control planes' user-data holds CA keys.
 */
public final class DirectorySink implements Sink {

    /** Marks a directory as piimage's output, so a later bake may replace it. */
    public static final String MARKER = ".piimage-output";
    private static final int SYNC_THREADS = 8;

    private final Path target;

    public DirectorySink(Path target) {
        this.target = target;
    }

    @Override
    public Path target() {
        return target;
    }

    @Override
    public void check() throws IOException {
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) || !Files.exists(target.resolve(MARKER))) {
                throw new IOException(target + " exists and is not an earlier piimage output; "
                        + "remove it or choose another output with -o");
            }
        }
    }

    @Override
    public Staged stage(FileTree tree) throws IOException {
        check();
        Path parent = target.toAbsolutePath().normalize().getParent();
        Files.createDirectories(parent);
        Path staging = AtomicFiles.sibling(target, "tmp");
        return AtomicFiles.stage(staging, () -> {
            Files.createDirectory(staging, AtomicFiles.PRIVATE_DIR);
            List<Path> written = new ArrayList<>();
            for (NodeFile file : tree.files()) {
                written.add(writeFile(staging, file));
            }
            syncAll(written);
            Files.createFile(staging.resolve(MARKER), AtomicFiles.PRIVATE_FILE);
            fsync(staging);
        }, () -> {
            check();
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Path old = AtomicFiles.sibling(target, "old");
                AtomicFiles.move(target, old);
                try {
                    AtomicFiles.move(staging, target);
                } catch (IOException e) {
                    AtomicFiles.move(old, target);
                    throw e;
                }
                FileTrees.deleteQuietly(old);
            } else {
                AtomicFiles.move(staging, target);
            }
            fsync(parent);
        });
    }

    /** Writes one file (not yet synced: see {@link #syncAll}); returns its path. */
    private static Path writeFile(Path root, NodeFile file) throws IOException {
        Path path = root.resolve(file.path()).normalize();
        if (!path.startsWith(root)) {
            throw new IOException("refusing to write outside the output: " + file.path());
        }
        createPrivateDirectories(root, path.getParent());
        // Created and opened in one call: a bake of many nodes writes hundreds of files.
        try (FileChannel channel = FileChannel.open(path,
                java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), AtomicFiles.PRIVATE_FILE)) {
            channel.write(java.nio.ByteBuffer.wrap(file.content()));
        }
        return path;
    }

    /**
     * Every file's data on disk before the directory is renamed into place, so a power cut leaves the
     * old output or the whole new one, never empty files. On eight threads: fsyncs in flight together
     * share the filesystem's journal commits (303 files of 26 KB on this machine's ext4: 85 ms synced
     * one by one as written, 34 ms this way).
     */
    private static void syncAll(List<Path> files) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(SYNC_THREADS, Threads.daemon("piimage-fsync"));
        try {
            List<Future<?>> pending = new ArrayList<>();
            for (Path file : files) {
                pending.add(pool.submit(() -> {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                    return null;
                }));
            }
            for (Future<?> done : pending) {
                done.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while syncing the output");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static void createPrivateDirectories(Path root, Path dir) throws IOException {
        if (dir.equals(root) || Files.isDirectory(dir)) {
            return;
        }
        createPrivateDirectories(root, dir.getParent());
        Files.createDirectory(dir, AtomicFiles.PRIVATE_DIR);
    }

    private static void fsync(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // Not every filesystem lets a directory be opened for sync; the rename is still atomic.
        }
    }
}
