package io.piimage.render;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * One cloud-init {@code write_files} entry as the user-data template prints it. Plain text is kept
 * readable as a YAML literal block; anything a literal block cannot carry exactly (no final newline,
 * a leading space, control characters, non-UTF-8) is base64.
 *
 * @param content for {@code base64}: the base64 text; otherwise the lines, each indented by 6 spaces,
 *                ready to follow {@code content: |}
 */
public record WriteFile(String path, String permissions, String owner, boolean base64, String content) {

    static final String INDENT = "      ";

    public static WriteFile of(NodeFile file) {
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
}
