package io.piimage.pipeline;

/** A bake could not finish (secrets, templates, output); the message is meant for the operator. */
public final class BakeException extends Exception {
    public BakeException(String message, Throwable cause) {
        super(message, cause);
    }

    public BakeException(String message) {
        super(message);
    }
}
