package io.piimage.image;

import java.util.ArrayList;
import java.util.List;

/**
 * Edits of the Raspberry Pi's config.txt. Its {@code [filter]} lines start conditional sections that run
 * until the next filter, so a setting is only added inside the section it is meant for.
 */
public final class ConfigTxt {

    /** The firmware silently cuts config.txt lines longer than this. */
    public static final int MAX_LINE = 98;

    private ConfigTxt() {
    }

    /**
     * Makes sure {@code line} is present in {@code section} (e.g. {@code [pi5]} or {@code pi5}): left alone if
     * already there, else added as the section's last setting; a missing section is appended at the end
     * of the file. Line endings (LF or CRLF) follow the file's.
     *
     * @throws ImageException if the section or line is longer than {@value #MAX_LINE} characters or
     *                        spans lines
     */
    public static String ensureSection(String config, String section, String line) {
        String header = section.startsWith("[") ? section.strip() : "[" + section.strip() + "]";
        String setting = line.strip();
        for (String l : List.of(header, setting)) {
            if (l.length() > MAX_LINE || l.contains("\n") || l.contains("\r") || l.isEmpty()
                    || l.equals("[]")) {
                throw new ImageException("config.txt line '" + l + "' is empty, spans lines or is longer than "
                        + MAX_LINE + " characters (the firmware cuts it)");
            }
        }
        String eol = config.contains("\r\n") ? "\r\n" : "\n";
        List<String> lines = new ArrayList<>(List.of(config.split("\r?\n", -1)));
        boolean endsWithEol = config.isEmpty() || config.endsWith("\n");
        if (endsWithEol) {
            lines.remove(lines.size() - 1);
        }
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equalsIgnoreCase(header)) {
                start = i; // the last such section wins, as settings later in the file do
            }
        }
        if (start >= 0) {
            int end = start + 1;
            while (end < lines.size() && !lines.get(end).strip().startsWith("[")) {
                end++;
            }
            for (int i = start + 1; i < end; i++) {
                if (lines.get(i).strip().equals(setting)) {
                    return config;
                }
            }
            int insert = end;
            while (insert > start + 1 && lines.get(insert - 1).isBlank()) {
                insert--;
            }
            lines.add(insert, setting);
        } else {
            if (!lines.isEmpty() && !lines.get(lines.size() - 1).isBlank()) {
                lines.add("");
            }
            lines.add(header);
            lines.add(setting);
        }
        return String.join(eol, lines) + (endsWithEol || start < 0 ? eol : "");
    }
}
