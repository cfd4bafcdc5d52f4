package io.piimage.util;

import java.util.regex.Pattern;

/** Quoting text so that YAML or a POSIX shell reads back exactly that text. */
public final class Quoting {

    /** Words a shell takes as they are: no quoting needed, so printed commands stay readable. */
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private Quoting() {
    }

    /**
     * A YAML double-quoted scalar that every YAML 1.1/1.2 parser reads back as exactly {@code text}.
     * Everything YAML does not allow to stand as it is (C0 and C1 controls, DEL, the Unicode line and
     * paragraph separators, a byte-order mark) is escaped, not only the ASCII controls.
     */
    public static String yaml(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || c == 0xfeff) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** One shell word, always single-quoted: for scripts, where a uniform form is easier to check. */
    public static String shell(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** One shell word, quoted only when it needs to be: for commands printed for people to copy. */
    public static String shellIfNeeded(String text) {
        return SHELL_SAFE.matcher(text).matches() ? text : shell(text);
    }
}
