package io.piimage.util;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Write to a temporary file beside the target, then rename it over the target: a reader sees the old
 * file or the new one, never half of one, and a failed write leaves the old file (or nothing) in place.
 */
public final class AtomicWrite {

    /** rw-------: for files that grant access (kubeconfigs, keys). */
    public static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");

    private AtomicWrite() {
    }

    /** Writes {@code text} as UTF-8; {@code permissions} null: the default ones of a new file. */
    public static void writeString(Path target, String text, Set<PosixFilePermission> permissions) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8), permissions);
    }

    public static void writeString(Path target, String text) throws IOException {
        writeString(target, text, null);
    }

    /** Writes {@code content}, creating the parent directories; {@code permissions} null: the default ones. */
    public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        // Created with its permissions, so a private file is never readable by others, not even briefly.
        FileAttribute<?>[] attributes = permissions == null ? new FileAttribute<?>[0]
                : new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)};
        Path temp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp", attributes);
        try {
            Files.write(temp, content);
            replace(temp, absolute);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Renames {@code from} over {@code to} in one step (same filesystem), replacing what is there. */
    public static void replace(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
