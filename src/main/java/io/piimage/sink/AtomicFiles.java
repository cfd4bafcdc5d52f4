package io.piimage.sink;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Temporary siblings, private permissions, renames and clean-up shared by the sinks. */
final class AtomicFiles {

    static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private AtomicFiles() {
    }

    /**
     * A hidden name beside {@code target}, on the same filesystem so a rename can be atomic, naming this
     * process so a later bake can remove it if this one is killed ({@link Leftovers}).
     */
    static Path sibling(Path target, String purpose) {
        Path absolute = target.toAbsolutePath().normalize();
        return absolute.resolveSibling(Leftovers.name("." + absolute.getFileName() + "." + purpose + "-"));
    }

    /** An I/O step. */
    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    /**
     * Fills {@code staging} with {@code write} (deleting it if that fails) and returns it staged:
     * {@code commit} moves it into place; closing deletes whatever was not moved.
     */
    static Sink.Staged stage(Path staging, IoAction write, IoAction commit) throws IOException {
        boolean ok = false;
        try {
            write.run();
            ok = true;
        } finally {
            if (!ok) {
                deleteQuietly(staging);
            }
        }
        return new Sink.Staged() {
            @Override
            public void commit() throws IOException {
                commit.run();
            }

            @Override
            public void close() {
                deleteQuietly(staging);
            }
        };
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
        } catch (java.nio.file.DirectoryNotEmptyException | java.nio.file.FileAlreadyExistsException e) {
            // Only possible when something else wrote there after this bake checked the place.
            throw new IOException(to + " was created by another program while this bake was writing it; "
                    + "it was left as it is", e);
        }
    }

    /** Deletes a tree; quiet when it is already gone. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (IOException ignored) {
            // Best effort: the caller is already reporting the failure that brought us here.
        }
    }
}
