package io.piimage.image;

/**
 * A disk image or file system this package refuses to change (unsupported, corrupt, too full) or an
 * edit that would produce something the Raspberry Pi cannot use. Thrown before anything is written, so
 * callers can report the message as-is. Unchecked so edit hooks ({@code UnaryOperator<String>}) may
 * throw it too.
 */
public class ImageException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
