package io.piimage.pipeline;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** A bake could not finish (secrets, templates, output); the message is meant for the operator. */
public final class BakeException extends Exception {

    private final String written;

    public BakeException(String message, Throwable cause) {
        this(message, cause, null);
    }

    public BakeException(String message) {
        this(message, null, null);
    }

    /** A failure after the bake began writing; {@code written} says what was written (null: nothing). */
    public BakeException(String message, Throwable cause, String written) {
        super(message, cause);
        this.written = written;
    }

    /** What the bake had written when it failed, as a sentence; null when nothing was written. */
    public String written() {
        return written;
    }

    /** An I/O failure in words: Java names only the file for a refused permission or a missing file. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs && fs.getReason() == null) {
            String why = e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof NoSuchFileException ? "no such file or directory"
                    : e instanceof FileAlreadyExistsException ? "already exists"
                    : e instanceof NotDirectoryException ? "not a directory"
                    : "cannot be used (" + e.getClass().getSimpleName() + ")";
            return fs.getFile() + ": " + why;
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
