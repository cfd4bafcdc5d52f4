package io.piimage.image;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Edits of the Raspberry Pi's cmdline.txt: one line of kernel arguments that also carries the distro's
 * {@code root=} (a PARTUUID on Raspberry Pi OS), so it is only ever appended to, never rewritten.
 */
public final class CmdlineTxt {

    /** The kernel's command-line buffer (COMMAND_LINE_SIZE on arm64). */
    public static final int MAX_BYTES = 2048;

    private CmdlineTxt() {
    }

    /**
     * Appends {@code token} (e.g. {@code cgroup_enable=memory}) unless the line already has it, keeping
     * everything else byte for byte, including a trailing newline.
     *
     * @throws ImageException if the file is not one line, the token is blank or holds whitespace, or the
     *                        result would exceed {@value #MAX_BYTES} bytes
     */
    public static String appendOnce(String cmdline, String token) {
        if (token.isBlank() || token.chars().anyMatch(Character::isWhitespace)) {
            throw new ImageException("a cmdline.txt token must be one word, not '" + token + "'");
        }
        String line = cmdline;
        String ending = "";
        while (line.endsWith("\n") || line.endsWith("\r")) {
            ending = line.charAt(line.length() - 1) + ending;
            line = line.substring(0, line.length() - 1);
        }
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            // The firmware reads only the first line; a second one would be silently ignored.
            throw new ImageException("cmdline.txt must be a single line, found several");
        }
        boolean present = Arrays.stream(line.trim().split("\\s+")).anyMatch(token::equals);
        if (present) {
            return cmdline;
        }
        String result = (line.isBlank() ? "" : line.stripTrailing() + " ") + token;
        int bytes = result.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new ImageException("cmdline.txt would be " + bytes + " bytes with '" + token
                    + "'; the kernel command line holds at most " + MAX_BYTES);
        }
        return result + ending;
    }
}
