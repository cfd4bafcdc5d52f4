package io.piimage.sink;

import io.piimage.render.FileTree;
import io.piimage.render.NodeFile;
import io.piimage.util.FileTrees;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes the tree into a directory: first into a hidden sibling, then renamed into place. An earlier
 * bake's output is replaced; any other existing directory is refused, so a mistyped {@code -o ~} cannot
 * wipe a home directory. Everything is private (0700/0600): control planes' user-data holds CA keys.
 */
public final class DirectorySink implements Sink {

    /** Marks a directory as piimage's output, so a later bake may replace it. */
    public static final String MARKER = ".piimage-output";

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
            for (NodeFile file : tree.files()) {
                writeFile(staging, file);
            }
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

    private static void writeFile(Path root, NodeFile file) throws IOException {
        Path path = root.resolve(file.path()).normalize();
        if (!path.startsWith(root)) {
            throw new IOException("refusing to write outside the output: " + file.path());
        }
        createPrivateDirectories(root, path.getParent());
        // Created and opened in one call: a bake of many nodes writes hundreds of files.
        try (FileChannel channel = FileChannel.open(path,
                java.util.EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), AtomicFiles.PRIVATE_FILE)) {
            channel.write(java.nio.ByteBuffer.wrap(file.content()));
            channel.force(true);
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
