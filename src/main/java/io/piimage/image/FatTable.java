package io.piimage.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The active FAT of a FAT32 volume, whole in memory: cluster chains, allocation (lowest free first, so
 * the result is deterministic) and the free count FSInfo keeps. Edits mark the FAT sectors they touch;
 * {@link #write} writes those sectors to every FAT copy.
 */
final class FatTable {

    static final int MASK = 0x0FFFFFFF;
    static final int EOC = 0x0FFFFFFF;
    static final int BAD = 0x0FFFFFF7;

    private final ByteBuffer fat;
    private final int bytesPerSector;
    private final int maxCluster;       // highest valid cluster number
    private final BitSet dirtyFatSectors = new BitSet();
    private long freeClusters;
    private int lowestFree;
    private boolean fsInfoDirty;

    FatTable(ByteBuffer fat, int bytesPerSector, int maxCluster) {
        this.fat = fat.order(ByteOrder.LITTLE_ENDIAN);
        this.bytesPerSector = bytesPerSector;
        this.maxCluster = maxCluster;
    }

    int maxCluster() {
        return maxCluster;
    }

    long freeClusters() {
        return freeClusters;
    }

    boolean hasChanges() {
        return !dirtyFatSectors.isEmpty() || fsInfoDirty;
    }

    /** Bytes {@link #write} and {@link #writeFsInfo} will write. */
    long changedBytes(int copies) {
        return (long) dirtyFatSectors.cardinality() * bytesPerSector * copies + (fsInfoDirty ? bytesPerSector : 0);
    }

    void clearChanges() {
        dirtyFatSectors.clear();
        fsInfoDirty = false;
    }

    /** Writes the changed FAT sectors into each of {@code copies} FATs, the first at {@code position}. */
    void write(FileChannel target, long position, int copies, long fatBytes) throws IOException {
        for (int s = dirtyFatSectors.nextSetBit(0); s >= 0; s = dirtyFatSectors.nextSetBit(s + 1)) {
            ByteBuffer sector = fat.duplicate();
            sector.clear().position(s * bytesPerSector).limit((s + 1) * bytesPerSector);
            for (int copy = 0; copy < copies; copy++) {
                Fat32Volume.writeFully(target, position + copy * fatBytes + (long) s * bytesPerSector, sector.duplicate());
            }
        }
    }

    /** Updates the free count and next-free hint of the FSInfo sector at {@code position}, if they changed. */
    void writeFsInfo(FileChannel target, long position) throws IOException {
        if (!fsInfoDirty) {
            return;
        }
        ByteBuffer fi = Fat32Volume.readFully(target, position, 512).order(ByteOrder.LITTLE_ENDIAN);
        fi.putInt(488, (int) freeClusters);
        fi.putInt(492, freeClusters == 0 ? -1 : nextFreeFrom(lowestFree));
        fi.clear();
        Fat32Volume.writeFully(target, position, fi);
    }

    /** Walks the whole FAT once: the volume is refused unless every chain is well formed. */
    void check(int rootCluster) {
        BitSet referenced = new BitSet(maxCluster + 1);
        long free = 0;
        for (int c = 2; c <= maxCluster; c++) {
            int v = entry(c);
            if (v == 0) {
                free++;
                continue;
            }
            if (v == BAD || v >= 0x0FFFFFF8) {
                continue;
            }
            if (v < 2 || v > maxCluster) {
                throw Fat32Volume.corrupt(String.format("cluster %d links to 0x%08x, outside 2..%d", c, v, maxCluster));
            }
            if (entry(v) == 0) {
                throw Fat32Volume.corrupt("cluster " + c + " links to free cluster " + v);
            }
            if (referenced.get(v)) {
                throw Fat32Volume.corrupt("cluster " + v + " is linked from two chains (cross-linked)");
            }
            referenced.set(v);
        }
        // With no cross-links, a chain started at a head never loops; a used cluster no head reaches
        // therefore sits on a cycle.
        BitSet reached = new BitSet(maxCluster + 1);
        for (int c = 2; c <= maxCluster; c++) {
            int v = entry(c);
            if (v == 0 || v == BAD || referenced.get(c)) {
                continue;
            }
            for (int x = c; ; x = entry(x)) {
                reached.set(x);
                int next = entry(x);
                if (next >= 0x0FFFFFF8 || next == BAD) {
                    break;
                }
            }
        }
        for (int c = 2; c <= maxCluster; c++) {
            int v = entry(c);
            if (v != 0 && v != BAD && !reached.get(c)) {
                throw Fat32Volume.corrupt("cluster " + c + " is part of a loop in the FAT");
            }
        }
        freeClusters = free;
        lowestFree = 2;
        if (entry(rootCluster) == 0) {
            throw Fat32Volume.corrupt("the root directory's cluster " + rootCluster + " is marked free");
        }
    }

    /** Allocates and links {@code n} clusters, lowest free first (deterministic). */
    List<Integer> allocate(int n) {
        if (n > freeClusters) {
            throw new ImageException("the FAT32 volume is full");
        }
        List<Integer> out = new ArrayList<>(n);
        int c = lowestFree;
        while (out.size() < n) {
            c = nextFreeFrom(c);
            out.add(c);
            c++;
        }
        for (int i = 0; i < n; i++) {
            setEntry(out.get(i), i + 1 < n ? out.get(i + 1) : EOC);
        }
        freeClusters -= n;
        lowestFree = c;
        fsInfoDirty = true;
        return out;
    }

    int nextFreeFrom(int from) {
        for (int c = Math.max(2, from); c <= maxCluster; c++) {
            if (entry(c) == 0) {
                return c;
            }
        }
        throw new IllegalStateException("free cluster count out of step with the FAT");
    }

    void free(List<Integer> clusters) {
        for (int c : clusters) {
            setEntry(c, 0);
            lowestFree = Math.min(lowestFree, c);
        }
        freeClusters += clusters.size();
        if (!clusters.isEmpty()) {
            fsInfoDirty = true;
        }
    }

    int entry(int cluster) {
        return fat.getInt(cluster * 4) & MASK;
    }

    void setEntry(int cluster, int value) {
        // The top 4 bits are reserved and must be preserved (fatgen103).
        int old = fat.getInt(cluster * 4);
        fat.putInt(cluster * 4, (old & ~MASK) | (value & MASK));
        dirtyFatSectors.set(cluster * 4 / bytesPerSector);
    }

    /** The cluster chain starting at {@code first} (empty for 0), checked for range and length. */
    List<Integer> chain(int first) {
        List<Integer> out = new ArrayList<>();
        if (first == 0) {
            return out;
        }
        int c = first;
        while (true) {
            if (c < 2 || c > maxCluster) {
                throw Fat32Volume.corrupt("a chain reaches cluster " + c + ", outside 2..." + maxCluster);
            }
            if (out.size() > maxCluster) {
                throw Fat32Volume.corrupt("a cluster chain loops");
            }
            out.add(c);
            int next = entry(c);
            if (next >= 0x0FFFFFF8) {
                return out;
            }
            if (next == 0 || next == BAD) {
                throw Fat32Volume.corrupt("a chain runs into " + (next == 0 ? "free" : "bad") + " cluster after " + c);
            }
            c = next;
        }
    }
}
