package io.piimage.render;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * One cloud-init {@code write_files} entry as the user-data template prints it. Plain text is kept
 * readable as a YAML literal block; anything a literal block cannot carry exactly (no final newline,
 * a leading space, control characters, non-UTF-8) is base64. The path is printed quoted
 * ({@code q(f.path)}): a name holding {@code ": "} or {@code " #"} is still one exact YAML string.
 *
 * @param content for {@code base64}: the base64 text; otherwise the lines, each indented by 6 spaces,
 *                ready to follow {@code content: |}
 */
public record WriteFile(String path, String permissions, String owner, boolean base64, String content) {

    static final String INDENT = "      ";

    public static WriteFile of(NodeFile file) {
        pathProblem(file.path()).ifPresent(problem -> {
            throw new IllegalArgumentException("file path '" + file.path() + "' " + problem);
        });
        byte[] bytes = file.content();
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (isLiteralSafe(bytes, text)) {
            StringBuilder indented = new StringBuilder(text.length() + 64);
            for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
                if (!line.isEmpty()) {
                    indented.append(INDENT).append(line);
                }
                indented.append('\n');
            }
            return new WriteFile(file.path(), file.permissions(), "root:root", false, indented.toString());
        }
        // An empty file still needs a content value: "" reads as the empty string, not as YAML null.
        String encoded = bytes.length == 0 ? "\"\"" : Base64.getEncoder().encodeToString(bytes);
        return new WriteFile(file.path(), file.permissions(), "root:root", true, encoded);
    }

    private static boolean isLiteralSafe(byte[] bytes, String text) {
        // Most files are ASCII: their bytes are their characters, checked in one pass over the array.
        int n = bytes.length;
        boolean ascii = n > 0;
        for (int i = 0; i < n && ascii; i++) {
            byte b = bytes[i];
            if (b < 0) {
                ascii = false;
            } else if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) {
                return false;
            }
        }
        if (ascii) {
            return bytes[n - 1] == '\n' && (n < 2 || bytes[n - 2] != '\n') && bytes[0] != ' ' && bytes[0] != '\n';
        }
        if (text.isEmpty() || !text.endsWith("\n") || text.endsWith("\n\n") || text.startsWith(" ")
                || text.startsWith("\n") || !java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), bytes)) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            // Tabs are fine inside a literal block; other controls, CR, and the BOM are not kept exactly.
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfeff
                    || c == 0x2028 || c == 0x2029) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why {@code path} cannot be a file cloud-init writes, if it cannot. Quoting keeps any name exact in
     * YAML, but a name with control characters, line separators or a BOM cannot be shown in a message
     * or a log line unambiguously and breaks every line-oriented tool on the node; U+FFFD and lone
     * surrogates mean the name was not UTF-8 and would not arrive as it is on disk; a backslash is a
     * separator to anything reading the card on Windows.
     */
    public static java.util.Optional<String> pathProblem(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            String what = null;
            if (c == '\n') {
                what = "a newline";
            } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                what = String.format("the control character U+%04X", (int) c);
            } else if (c == 0x2028 || c == 0x2029) {
                what = "a Unicode line or paragraph separator";
            } else if (c == 0xfeff) {
                what = "a byte order mark";
            } else if (c == 0xfffd) {
                what = "bytes that are not UTF-8";
            } else if (c == '\\') {
                what = "a backslash";
            } else if (Character.isHighSurrogate(c) && i + 1 < path.length() && Character.isLowSurrogate(path.charAt(i + 1))) {
                i++; // a character outside the BMP: fine
            } else if (Character.isSurrogate(c)) {
                what = "a lone UTF-16 surrogate";
            }
            if (what != null) {
                return java.util.Optional.of("holds " + what + " (character " + (i + 1) + ")");
            }
        }
        return java.util.Optional.empty();
    }
}
