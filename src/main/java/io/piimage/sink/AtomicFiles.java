package io.piimage.sink;

import io.piimage.util.FileTrees;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
                FileTrees.deleteQuietly(staging);
            }
        }
        return new Sink.Staged() {
            @Override
            public void commit() throws IOException {
                commit.run();
            }

            @Override
            public void close() {
                FileTrees.deleteQuietly(staging);
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
}
