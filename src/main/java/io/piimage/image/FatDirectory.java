package io.piimage.image;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One FAT directory: its cluster chain and bytes, editable in memory (the volume stages them when it
 * saves the directory). Reads its 32-byte entries, long names included, and finds free slots; the
 * volume decides what goes into them.
 */
final class FatDirectory {

    static final int ATTR_READ_ONLY = 0x01;
    static final int ATTR_VOLUME_ID = 0x08;
    static final int ATTR_DIRECTORY = 0x10;
    static final int ATTR_ARCHIVE = 0x20;
    static final int ATTR_LFN = 0x0F;

    /** A parsed directory entry: the short entry at {@code slot}, preceded by {@code lfnCount} LFN entries. */
    record Entry(String longName, String shortDisplay, String shortName, int attr, int firstCluster,
                         long size, int slot, int lfnCount) {
        boolean isDirectory() {
            return (attr & ATTR_DIRECTORY) != 0;
        }

        boolean isDotEntry() {
            return shortName.equals(".") || shortName.equals("..");
        }

        String name() {
            return longName != null ? longName : shortDisplay;
        }

        boolean matches(String name) {
            return name.equalsIgnoreCase(shortName) || (longName != null && name.equalsIgnoreCase(longName));
        }
    }

    final int firstCluster;
    final List<Integer> clusters;
    byte[] data;
    private final int clusterSize;
    private final int maxCluster;

    FatDirectory(int firstCluster, List<Integer> clusters, byte[] data, int clusterSize, int maxCluster) {
        this.firstCluster = firstCluster;
        this.clusters = clusters;
        this.data = data;
        this.clusterSize = clusterSize;
        this.maxCluster = maxCluster;
    }

    int slots() {
        return data.length / 32;
    }

    List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        char[] lfn = null;
        int lfnSeq = 0;
        int lfnSum = -1;
        int lfnStart = -1;
        for (int slot = 0; slot < slots(); slot++) {
            int o = slot * 32;
            int b0 = data[o] & 0xFF;
            if (b0 == 0) {
                break;
            }
            int attr = data[o + 11] & 0xFF;
            if (b0 == 0xE5) {
                lfn = null;
                continue;
            }
            if ((attr & 0x3F) == ATTR_LFN) {
                int seq = b0 & 0x1F;
                if ((b0 & 0x40) != 0 && seq > 0) {
                    lfn = new char[seq * FatNames.LFN_CHARS_PER_ENTRY];
                    Arrays.fill(lfn, '\uFFFF');
                    lfnSum = data[o + 13] & 0xFF;
                    lfnStart = slot;
                } else if (lfn == null || seq != lfnSeq - 1 || (data[o + 13] & 0xFF) != lfnSum) {
                    lfn = null; // orphaned or out-of-order part: ignored, as Linux does
                    continue;
                }
                lfnSeq = seq;
                for (int k = 0; k < FatNames.LFN_CHARS_PER_ENTRY; k++) {
                    int p = o + FatNames.lfnCharOffset(k);
                    lfn[(seq - 1) * FatNames.LFN_CHARS_PER_ENTRY + k] =
                            (char) ((data[p] & 0xFF) | ((data[p + 1] & 0xFF) << 8));
                }
                continue;
            }
            if ((attr & ATTR_VOLUME_ID) != 0) {
                lfn = null;
                continue;
            }
            String longName = null;
            int lfnCount = 0;
            if (lfn != null && lfnSeq == 1 && FatNames.checksum(data, o) == lfnSum) {
                int end = 0;
                while (end < lfn.length && lfn[end] != 0 && lfn[end] != '\uFFFF') {
                    end++;
                }
                longName = new String(lfn, 0, end);
                lfnCount = slot - lfnStart;
            }
            lfn = null;
            int cluster = ((data[o + 21] & 0xFF) << 24 | (data[o + 20] & 0xFF) << 16
                    | (data[o + 27] & 0xFF) << 8 | (data[o + 26] & 0xFF)) & FatTable.MASK;
            long size = Integer.toUnsignedLong((data[o + 28] & 0xFF) | (data[o + 29] & 0xFF) << 8
                    | (data[o + 30] & 0xFF) << 16 | (data[o + 31] & 0xFF) << 24);
            String shortName = FatNames.displayShortName(data, o, false);
            if (cluster != 0 && (cluster < 2 || cluster > maxCluster) && !shortName.equals("..")) {
                throw Fat32Volume.corrupt("directory entry '" + shortName + "' starts at cluster " + cluster);
            }
            out.add(new Entry(longName, FatNames.displayShortName(data, o, true), shortName, attr, cluster,
                    size, slot, lfnCount));
        }
        return out;
    }

    Entry find(String name) {
        for (Entry e : entries()) {
            if (!e.isDotEntry() && e.matches(name)) {
                return e;
            }
        }
        return null;
    }

    Set<String> shortNames() {
        Set<String> names = new HashSet<>();
        for (int slot = 0; slot < slots(); slot++) {
            int o = slot * 32;
            int b0 = data[o] & 0xFF;
            if (b0 == 0) {
                break;
            }
            if (b0 != 0xE5 && (data[o + 11] & 0x3F) != ATTR_LFN) {
                names.add(new String(data, o, 11, StandardCharsets.ISO_8859_1));
            }
        }
        return names;
    }

    /** First slot of a run of {@code n} free slots (deleted or past the end marker), or -1. */
    int freeRun(int n) {
        int run = 0;
        boolean ended = false;
        for (int slot = 0; slot < slots(); slot++) {
            int b0 = data[slot * 32] & 0xFF;
            ended |= b0 == 0;
            if (ended || b0 == 0xE5) {
                if (++run == n) {
                    return slot - n + 1;
                }
            } else {
                run = 0;
            }
        }
        return -1;
    }

    /** Clusters this directory must grow by to fit {@code n} more slots. */
    int growthFor(int n) {
        if (freeRun(n) >= 0) {
            return 0;
        }
        int trailing = 0;
        boolean ended = false;
        for (int slot = 0; slot < slots(); slot++) {
            int b0 = data[slot * 32] & 0xFF;
            ended |= b0 == 0;
            trailing = ended || b0 == 0xE5 ? trailing + 1 : 0;
        }
        int perCluster = clusterSize / 32;
        return (n - trailing + perCluster - 1) / perCluster;
    }
}
