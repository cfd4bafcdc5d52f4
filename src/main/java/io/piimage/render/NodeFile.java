package io.piimage.render;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One file as it will exist on a node (or in the bake output): an absolute-or-relative path, bytes and a
 * POSIX mode. Content is copied in and out so the record stays immutable.
 */
public record NodeFile(String path, byte[] content, int mode) {

    public static final int SECRET = 0600;
    public static final int READABLE = 0644;
    public static final int EXECUTABLE = 0755;

    public NodeFile {
        if (path.isEmpty() || path.contains("\\") || path.contains("//") || path.contains("/../")
                || path.endsWith("/..") || path.startsWith("../")) {
            throw new IllegalArgumentException("unsafe file path '" + path + "'");
        }
        content = content.clone();
    }

    public static NodeFile text(String path, String text, int mode) {
        return new NodeFile(path, text.getBytes(StandardCharsets.UTF_8), mode);
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    public int size() {
        return content.length;
    }

    public String text() {
        return new String(content, StandardCharsets.UTF_8);
    }

    /** "0644": the notation cloud-init's write_files and chmod use. */
    public String permissions() {
        // Not String.format: it parses its pattern on every call, and a bake asks once per file.
        String octal = Integer.toOctalString(mode);
        return octal.length() >= 4 ? octal : "0000".substring(octal.length()) + octal;
    }

    public boolean isSecret() {
        return (mode & 0077) == 0;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NodeFile f && f.path.equals(path) && f.mode == mode && Arrays.equals(f.content, content);
    }

    @Override
    public int hashCode() {
        return path.hashCode() * 31 + Arrays.hashCode(content);
    }

    @Override
    public String toString() {
        return "NodeFile[" + path + ", " + content.length + " bytes, " + permissions() + "]";
    }
}
