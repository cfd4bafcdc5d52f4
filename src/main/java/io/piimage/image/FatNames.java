package io.piimage.image;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/** Long-name validation, 8.3 aliases and VFAT long-name entries: the name rules of FAT, in one place. */
final class FatNames {

    /** Characters a long name may not hold (besides controls): Windows and Linux vfat refuse them. */
    private static final String LFN_FORBIDDEN = "\"*/:<>?\\|";
    /** Characters allowed in a short name besides A-Z and 0-9. */
    private static final String SHORT_EXTRA = "$%'-_@~`!(){}^#&";
    static final int LFN_CHARS_PER_ENTRY = 13;
    static final int MAX_LFN_LENGTH = 255;

    private FatNames() {
    }

    /** Refuses names Linux vfat, mtools or Windows would store differently from what was asked. */
    static void validateLongName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new ImageException("invalid FAT file name '" + name + "'");
        }
        if (name.length() > MAX_LFN_LENGTH) {
            throw new ImageException("FAT file name longer than 255 characters: '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7F || LFN_FORBIDDEN.indexOf(c) >= 0) {
                throw new ImageException("FAT file name '" + name + "' contains a forbidden character (code "
                        + (int) c + ")");
            }
        }
        // Trailing dots and spaces are silently stripped by Windows and Linux: the name read back would differ.
        char last = name.charAt(name.length() - 1);
        if (last == '.' || last == ' ') {
            throw new ImageException("FAT file name '" + name + "' ends in a dot or space");
        }
    }

    private static boolean isShortChar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_EXTRA.indexOf(c) >= 0;
    }

    /**
     * The 11-byte short name if {@code name} is already a valid upper-case 8.3 name (then no long-name
     * entries are needed), else null.
     */
    static byte[] exactShortName(String name) {
        int dot = name.indexOf('.');
        String base = dot < 0 ? name : name.substring(0, dot);
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        if (base.isEmpty() || base.length() > 8 || ext.length() > 3 || (dot >= 0 && ext.isEmpty())
                || ext.indexOf('.') >= 0) {
            return null;
        }
        for (char c : (base + ext).toCharArray()) {
            if (!isShortChar(c)) {
                return null;
            }
        }
        return pack(base, ext);
    }

    /**
     * A unique {@code BASE~N.EXT} alias for a long name: the basis follows Microsoft's rules (upper
     * case, spaces and extra dots removed, other characters replaced by '_'), and N is the lowest number
     * whose alias no existing short name in the directory already has.
     *
     * @param existing every short name in the directory, as 11-character strings
     */
    static byte[] uniqueAlias(String longName, Set<String> existing) {
        String upper = longName.toUpperCase(Locale.ROOT);
        String stripped = upper.replaceFirst("^[. ]+", "");
        int lastDot = stripped.lastIndexOf('.');
        String basePart = lastDot < 0 ? stripped : stripped.substring(0, lastDot);
        String extPart = lastDot < 0 ? "" : stripped.substring(lastDot + 1);
        String base = basis(basePart, 8);
        String ext = basis(extPart, 3);
        if (base.isEmpty()) {
            base = "_";
        }
        for (int n = 1; n <= 999_999; n++) {
            String tail = "~" + n;
            String candidateBase = base.substring(0, Math.min(base.length(), 8 - tail.length())) + tail;
            byte[] packed = pack(candidateBase, ext);
            if (!existing.contains(new String(packed, StandardCharsets.ISO_8859_1))) {
                return packed;
            }
        }
        throw new ImageException("no free 8.3 alias left for '" + longName + "'");
    }

    private static String basis(String part, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < part.length() && sb.length() < max; i++) {
            char c = part.charAt(i);
            if (c == ' ' || c == '.') {
                continue;
            }
            sb.append(isShortChar(c) ? c : '_');
        }
        return sb.toString();
    }

    private static byte[] pack(String base, String ext) {
        String padded = String.format("%-8s%-3s", base, ext);
        return padded.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The checksum of an 11-byte short name that every long-name entry of the file carries. */
    static int checksum(byte[] shortName, int offset) {
        int sum = 0;
        for (int i = 0; i < 11; i++) {
            sum = (((sum & 1) << 7) + ((sum & 0xFF) >> 1) + (shortName[offset + i] & 0xFF)) & 0xFF;
        }
        return sum;
    }

    /** Number of 32-byte long-name entries for a name. */
    static int lfnEntryCount(String name) {
        return (name.length() + LFN_CHARS_PER_ENTRY - 1) / LFN_CHARS_PER_ENTRY;
    }

    /**
     * Writes the long-name entries of {@code name} (in on-disk order: the highest sequence number
     * first) at {@code offset} of {@code dir}.
     */
    static void writeLfnEntries(byte[] dir, int offset, String name, int checksum) {
        int count = lfnEntryCount(name);
        for (int i = 0; i < count; i++) {
            int seq = count - i; // on-disk order is last part first
            int e = offset + i * 32;
            java.util.Arrays.fill(dir, e, e + 32, (byte) 0);
            dir[e] = (byte) (seq | (seq == count ? 0x40 : 0));
            dir[e + 11] = 0x0F;
            dir[e + 13] = (byte) checksum;
            for (int k = 0; k < LFN_CHARS_PER_ENTRY; k++) {
                int idx = (seq - 1) * LFN_CHARS_PER_ENTRY + k;
                int ch;
                if (idx < name.length()) {
                    ch = name.charAt(idx);
                } else if (idx == name.length()) {
                    ch = 0x0000;
                } else {
                    ch = 0xFFFF;
                }
                int pos = e + lfnCharOffset(k);
                dir[pos] = (byte) ch;
                dir[pos + 1] = (byte) (ch >> 8);
            }
        }
    }

    /** Byte offset inside a long-name entry of its k-th (0..12) UCS-2 character. */
    static int lfnCharOffset(int k) {
        if (k < 5) {
            return 1 + 2 * k;
        }
        if (k < 11) {
            return 14 + 2 * (k - 5);
        }
        return 28 + 2 * (k - 11);
    }

    /** The display form ("BCM271~1.DTB", or lower-cased per the NT case bits) of an 11-byte short name. */
    static String displayShortName(byte[] dir, int offset, boolean applyCaseBits) {
        byte[] raw = java.util.Arrays.copyOfRange(dir, offset, offset + 11);
        if ((raw[0] & 0xFF) == 0x05) {
            raw[0] = (byte) 0xE5; // 0x05 stands in for a real leading 0xE5 (KANJI lead byte)
        }
        String base = new String(raw, 0, 8, StandardCharsets.ISO_8859_1).stripTrailing();
        String ext = new String(raw, 8, 3, StandardCharsets.ISO_8859_1).stripTrailing();
        if (applyCaseBits) {
            int nt = dir[offset + 12] & 0xFF;
            if ((nt & 0x08) != 0) {
                base = base.toLowerCase(Locale.ROOT);
            }
            if ((nt & 0x10) != 0) {
                ext = ext.toLowerCase(Locale.ROOT);
            }
        }
        return ext.isEmpty() ? base : base + "." + ext;
    }
}
