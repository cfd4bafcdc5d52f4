package io.piimage.pipeline;

import java.util.Locale;

/** How node images are stored: raw, or compressed for download and for Imager, which decompresses as it writes. */
public enum Compression {
    NONE(""), XZ(".xz"), GZ(".gz");

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    /** What the image file's name ends with after {@code .img}: empty, {@code .xz} or {@code .gz}. */
    public String suffix() {
        return suffix;
    }

    /** none, xz or gz (any case). */
    public static Compression parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--compress must be none, xz or gz, not '" + name + "'", e);
        }
    }
}
