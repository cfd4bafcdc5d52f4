package io.piimage.render;

/** A template could not be rendered: a user's template override, or a bug in a packaged one. */
public final class RenderException extends Exception {
    public RenderException(String message, Throwable cause) {
        super(message, cause);
    }
}
