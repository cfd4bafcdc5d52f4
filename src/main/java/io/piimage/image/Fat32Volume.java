package io.piimage.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A FAT32 file system inside a {@link FileChannel} at a byte offset (a partition of a disk image).
 *
 * <p>Every change is staged in memory (the FAT, and whole clusters of data and directories) and reaches
 * the channel only through {@link #flush()} or {@link #writeChanges(FileChannel)}. Each operation checks
 * free space and the structures it walks before it changes even the staged state, so a refused operation
 * leaves the volume as it was, and nothing is ever written for it.
 *
 * <p>Deterministic by construction: clusters are allocated lowest-free-first (the FSInfo hint is not
 * trusted), new entries take the first free slots, and every timestamp is the one given to {@link #open}.
 *
 * <p>Paths use '/' and are matched case-insensitively against both long and short names, as FAT does.
 * Not thread-safe.
 *
 * <p>The parts: {@link FatBootSector} reads the boot sector, {@link FatTable} keeps the FAT (chains,
 * allocation, free count), {@link FatDirectory} reads and edits one directory's entries, {@link FatNames}
 * makes short and long names; this class walks paths and stages data clusters.
 */
public final class Fat32Volume {

    /** The timestamp put on everything written unless the caller chooses another. */
    public static final LocalDateTime DEFAULT_TIMESTAMP = LocalDateTime.of(2000, 1, 1, 0, 0, 0);

    /** FAT directories hold at most 65536 entries (the spec's limit; fsck enforces it). */
    private static final int MAX_DIR_ENTRIES = 65536;

    private final FileChannel channel;
    private final long offset;
    private final int bytesPerSector;
    private final int clusterSize;
    private final int numFats;
    private final long fatOffset;       // of FAT #0, relative to the volume
    private final long fatBytes;        // size of one FAT copy
    private final long dataOffset;      // of cluster 2, relative to the volume
    private final int maxCluster;       // highest valid cluster number
    private final int rootCluster;
    private final int fsInfoSector;     // -1 when the volume has none
    private final String bpbLabel;
    private final String rootLabel;
    private final int fatDate;
    private final int fatTime;

    /** The active FAT, whole, as loaded; staged edits go here. */
    private final FatTable table;
    private final TreeMap<Integer, byte[]> stagedClusters = new TreeMap<>();
    /** Set if an operation failed half-way through staging: then nothing may be written. */
    private boolean broken;

    /** One directory entry as {@link #list} shows it. */
    public record FatEntry(String name, String shortName, boolean directory, long size) {
    }

    private Fat32Volume(FileChannel channel, long offset, FatBootSector bpb, ByteBuffer fat, LocalDateTime timestamp)
            throws IOException {
        this.channel = channel;
        this.offset = offset;
        this.bytesPerSector = bpb.bytesPerSector;
        this.clusterSize = bpb.bytesPerSector * bpb.sectorsPerCluster;
        this.numFats = bpb.numFats;
        this.fatOffset = (long) bpb.reservedSectors * bpb.bytesPerSector;
        this.fatBytes = bpb.fatSectors * bpb.bytesPerSector;
        this.dataOffset = fatOffset + numFats * fatBytes;
        this.maxCluster = (int) (bpb.clusterCount + 1);
        this.rootCluster = bpb.rootCluster;
        this.fsInfoSector = bpb.fsInfoSector;
        this.bpbLabel = bpb.label;
        this.table = new FatTable(fat, bytesPerSector, maxCluster);
        this.fatDate = ((timestamp.getYear() - 1980) << 9) | (timestamp.getMonthValue() << 5) | timestamp.getDayOfMonth();
        this.fatTime = (timestamp.getHour() << 11) | (timestamp.getMinute() << 5) | (timestamp.getSecond() / 2);
        table.check(rootCluster);
        this.rootLabel = readRootLabel();
    }

    // ---------------------------------------------------------------- opening and validation

    /**
     * Opens the FAT32 volume at {@code offset} of {@code channel}, validating the boot sector, FSInfo and
     * the whole FAT (entries in range, no cross-links, no loops, all copies equal).
     *
     * @param length    bytes available to the volume (the partition's size)
     * @param timestamp put on every entry created or written
     * @throws ImageException if it is not FAT32 (naming what was found), or is damaged
     */
    public static Fat32Volume open(FileChannel channel, long offset, long length, LocalDateTime timestamp)
            throws IOException {
        if (timestamp.getYear() < 1980 || timestamp.getYear() > 2107) {
            throw new IllegalArgumentException("FAT timestamps cover 1980..2107, not " + timestamp);
        }
        FatBootSector bpb = FatBootSector.read(channel, offset);
        if (!bpb.type.equals("FAT32")) {
            throw new ImageException("the partition holds " + bpb.type + ", not FAT32; only FAT32 is supported");
        }
        if (bpb.totalSectors * bpb.bytesPerSector > length) {
            throw new ImageException("the FAT32 file system claims " + bpb.totalSectors * bpb.bytesPerSector
                    + " bytes but its partition has only " + length);
        }
        if (bpb.fatSectors * bpb.bytesPerSector > Integer.MAX_VALUE) {
            throw new ImageException("the FAT is too large to handle (" + bpb.fatSectors + " sectors)");
        }
        int fatLength = (int) (bpb.fatSectors * bpb.bytesPerSector);
        long fat0 = offset + (long) bpb.reservedSectors * bpb.bytesPerSector;
        int active = bpb.mirroringDisabled ? bpb.activeFat : 0;
        if (active >= bpb.numFats) {
            throw new ImageException("the active FAT number " + active + " does not exist");
        }
        ByteBuffer fat = readFully(channel, fat0 + (long) active * fatLength, fatLength);
        for (int i = 0; i < bpb.numFats; i++) {
            if (i != active && !readFully(channel, fat0 + (long) i * fatLength, fatLength).equals(fat)) {
                throw new ImageException("the FAT copies of the file system differ (corrupt FAT;"
                        + " `fsck.vfat` would report it); refusing to change it");
            }
        }
        fat.order(ByteOrder.LITTLE_ENDIAN);
        return new Fat32Volume(channel, offset, bpb, fat, timestamp);
    }

    /**
     * What file system starts at {@code offset}: "FAT32", "FAT16", "FAT12", "exFAT", "NTFS", "ext4"
     * (any ext2/3/4) or "unknown". Cheap: reads the first sectors only.
     */
    public static String identify(FileChannel channel, long offset) throws IOException {
        try {
            return FatBootSector.read(channel, offset).type;
        } catch (ImageException notFat) {
            try {
                ByteBuffer sb = readFully(channel, offset + 1024, 512).order(ByteOrder.LITTLE_ENDIAN);
                return (sb.getShort(56) & 0xFFFF) == 0xEF53 ? "ext4" : "unknown";
            } catch (ImageException tooShort) {
                return "unknown";
            }
        }
    }

    /** The boot-sector label of a FAT12/16/32 file system (blank-trimmed), if any. */
    public static Optional<String> bootSectorLabel(FileChannel channel, long offset) throws IOException {
        try {
            String label = FatBootSector.read(channel, offset).label;
            return label.isEmpty() ? Optional.empty() : Optional.of(label);
        } catch (ImageException e) {
            return Optional.empty();
        }
    }


    static ImageException corrupt(String detail) {
        return new ImageException("corrupt FAT32 file system: " + detail + "; refusing to change it");
    }

    private String readRootLabel() throws IOException {
        FatDirectory root = loadDir(rootCluster);
        for (int slot = 0; slot < root.slots(); slot++) {
            int o = slot * 32;
            int b0 = root.data[o] & 0xFF;
            if (b0 == 0) {
                break;
            }
            int attr = root.data[o + 11] & 0xFF;
            if (b0 != 0xE5 && (attr & 0x3F) != FatDirectory.ATTR_LFN && (attr & (FatDirectory.ATTR_VOLUME_ID | FatDirectory.ATTR_DIRECTORY)) == FatDirectory.ATTR_VOLUME_ID) {
                return new String(root.data, o, 11, StandardCharsets.ISO_8859_1).strip();
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- public queries

    /**
     * The volume label: the root directory's label entry (what blkid and Linux report), else the boot
     * sector's; "NO NAME" and blank count as none.
     */
    public Optional<String> label() {
        for (String l : new String[] {rootLabel, bpbLabel}) {
            if (l != null && !l.isEmpty() && !l.equals("NO NAME")) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    public int clusterSize() {
        return clusterSize;
    }

    public long freeBytes() {
        return table.freeClusters() * clusterSize;
    }

    public long freeClusters() {
        return table.freeClusters();
    }

    public int clusterCount() {
        return maxCluster - 1;
    }

    /** Clusters a file of {@code size} bytes occupies. */
    public long clustersFor(long size) {
        return (size + clusterSize - 1) / clusterSize;
    }

    public boolean exists(String path) throws IOException {
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            return true;
        }
        Optional<Integer> parent = findDir(parts.subList(0, parts.size() - 1));
        return parent.isPresent() && loadDir(parent.get()).find(parts.get(parts.size() - 1)) != null;
    }

    /** Entries of a directory ("." and ".." and the volume label left out), in on-disk order. */
    public List<FatEntry> list(String path) throws IOException {
        FatDirectory dir = loadDir(requireDir(split(path), path));
        List<FatEntry> out = new ArrayList<>();
        for (FatDirectory.Entry e : dir.entries()) {
            if (!e.isDotEntry()) {
                out.add(new FatEntry(e.name(), e.shortName(), e.isDirectory(), e.size()));
            }
        }
        return out;
    }

    public byte[] readFile(String path) throws IOException {
        FatDirectory.Entry e = requireEntry(path);
        if (e.isDirectory()) {
            throw new ImageException("'" + path + "' is a directory");
        }
        List<Integer> chain = table.chain(e.firstCluster());
        if ((long) chain.size() * clusterSize < e.size()) {
            throw corrupt("'" + path + "' is " + e.size() + " bytes but has only " + chain.size() + " clusters");
        }
        if (e.size() > Integer.MAX_VALUE - 8) {
            throw new ImageException("'" + path + "' is too large to read into memory");
        }
        byte[] out = new byte[(int) e.size()];
        for (int i = 0; i * (long) clusterSize < e.size(); i++) {
            byte[] data = readCluster(chain.get(i));
            int n = (int) Math.min(clusterSize, e.size() - (long) i * clusterSize);
            System.arraycopy(data, 0, out, i * clusterSize, n);
        }
        return out;
    }

    /** Bytes of data clusters the file at {@code path} holds now; 0 if it does not exist. */
    public long allocatedBytes(String path) throws IOException {
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            return 0;
        }
        Optional<Integer> parent = findDir(parts.subList(0, parts.size() - 1));
        if (parent.isEmpty()) {
            return 0;
        }
        FatDirectory.Entry e = loadDir(parent.get()).find(parts.get(parts.size() - 1));
        return e == null || e.isDirectory() ? 0 : (long) table.chain(e.firstCluster()).size() * clusterSize;
    }

    // ---------------------------------------------------------------- changes (staged)

    /** Creates the directory and any missing parents; existing directories are fine. */
    public void mkdirs(String path) throws IOException {
        List<String> parts = split(path);
        int dir = rootCluster;
        for (int i = 0; i < parts.size(); i++) {
            String name = parts.get(i);
            FatDirectory d = loadDir(dir);
            FatDirectory.Entry e = d.find(name);
            if (e != null) {
                if (!e.isDirectory()) {
                    throw new ImageException("cannot create directory '" + String.join("/", parts.subList(0, i + 1))
                            + "': a file of that name exists");
                }
                dir = e.firstCluster();
                continue;
            }
            FatNames.validateLongName(name);
            requireFree(1 + d.growthFor(slotsFor(name)), "the new directory '" + name + "'");
            dir = staged(() -> createDir(d, name));
        }
    }

    /**
     * Creates or replaces a file (its parent directory must exist). A replaced file keeps its directory
     * entry (and so its short name) and as much of its cluster chain as the new content needs; clusters it
     * no longer needs are freed.
     */
    public void writeFile(String path, byte[] content) throws IOException {
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            throw new ImageException("cannot write the root directory as a file");
        }
        String name = parts.get(parts.size() - 1);
        int parentCluster = requireDir(parts.subList(0, parts.size() - 1), path);
        FatDirectory dir = loadDir(parentCluster);
        FatDirectory.Entry existing = dir.find(name);
        long needed = clustersFor(content.length);
        if (existing != null) {
            if (existing.isDirectory()) {
                throw new ImageException("cannot write '" + path + "': it is a directory");
            }
            if ((existing.attr() & FatDirectory.ATTR_READ_ONLY) != 0) {
                // A read-only file on a Pi boot partition is unusual; replacing it silently could surprise.
                throw new ImageException("cannot write '" + path + "': it is marked read-only");
            }
            List<Integer> chain = table.chain(existing.firstCluster());
            requireFree(needed - chain.size(), "'" + path + "'");
            staged(() -> {
                List<Integer> newChain = resize(chain, (int) needed);
                writeData(newChain, content);
                byte[] d = dir.data;
                int o = existing.slot() * 32;
                putCluster(d, o, newChain.isEmpty() ? 0 : newChain.get(0));
                putInt(d, o + 28, content.length);
                putShort(d, o + 22, fatTime);
                putShort(d, o + 24, fatDate);
                putShort(d, o + 18, fatDate);
                d[o + 11] |= FatDirectory.ATTR_ARCHIVE;
                saveDir(dir);
                return 0;
            });
            return;
        }
        FatNames.validateLongName(name);
        requireFree(needed + dir.growthFor(slotsFor(name)), "'" + path + "'");
        staged(() -> {
            List<Integer> chain = table.allocate((int) needed);
            writeData(chain, content);
            addEntry(dir, name, FatDirectory.ATTR_ARCHIVE, chain.isEmpty() ? 0 : chain.get(0), content.length);
            saveDir(dir);
            return 0;
        });
    }

    /** Deletes a file or an empty directory; false if nothing was there. */
    public boolean delete(String path) throws IOException {
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            throw new ImageException("cannot delete the root directory");
        }
        Optional<Integer> parent = findDir(parts.subList(0, parts.size() - 1));
        if (parent.isEmpty()) {
            return false;
        }
        FatDirectory dir = loadDir(parent.get());
        FatDirectory.Entry e = dir.find(parts.get(parts.size() - 1));
        if (e == null) {
            return false;
        }
        if (e.isDirectory() && loadDir(e.firstCluster()).entries().stream().anyMatch(x -> !x.isDotEntry())) {
            throw new ImageException("cannot delete '" + path + "': the directory is not empty");
        }
        List<Integer> chain = table.chain(e.firstCluster());
        staged(() -> {
            free(chain);
            for (int s = e.slot() - e.lfnCount(); s <= e.slot(); s++) {
                dir.data[s * 32] = (byte) 0xE5;
            }
            saveDir(dir);
            return 0;
        });
        return true;
    }

    /** True if anything is staged and not yet written. */
    public boolean hasChanges() {
        return !stagedClusters.isEmpty() || table.hasChanges();
    }

    /** Bytes the staged changes will write (each changed FAT sector counted once per FAT copy). */
    public long changedBytes() {
        return (long) stagedClusters.size() * clusterSize
                + table.changedBytes(numFats);
    }

    /** Writes the staged changes to this volume's own channel. */
    public void flush() throws IOException {
        writeChanges(channel);
        stagedClusters.clear();
        table.clearChanges();
    }

    /**
     * Writes the staged changes into {@code target}, a byte-identical copy of this volume's image (the
     * volume sits at the same offset there). The staged state is kept, so this volume keeps reading as
     * changed. Does not force the target to disk.
     */
    public void writeChanges(FileChannel target) throws IOException {
        if (broken) {
            throw new IllegalStateException("an earlier change failed half-way; refusing to write");
        }
        for (Map.Entry<Integer, byte[]> c : stagedClusters.entrySet()) {
            writeFully(target, offset + clusterOffset(c.getKey()), ByteBuffer.wrap(c.getValue()));
        }
        table.write(target, offset + fatOffset, numFats, fatBytes);
        if (fsInfoSector > 0) {
            table.writeFsInfo(target, offset + (long) fsInfoSector * bytesPerSector);
        }
    }

    // ---------------------------------------------------------------- internals: staging helpers

    private interface StagedChange {
        int run() throws IOException;
    }

    /** Runs a change that was checked beforehand; if it still fails the volume refuses to write. */
    private int staged(StagedChange change) throws IOException {
        boolean ok = false;
        try {
            int r = change.run();
            ok = true;
            return r;
        } finally {
            if (!ok) {
                broken = true;
            }
        }
    }

    private void requireFree(long clusters, String what) {
        if (clusters > table.freeClusters()) {
            throw new ImageException("the FAT32 volume" + label().map(l -> " '" + l + "'").orElse("") + " has "
                    + kib(freeBytes()) + " free, " + what + " needs " + kib(clusters * clusterSize));
        }
    }

    static String kib(long bytes) {
        return ((bytes + 1023) / 1024) + " KiB";
    }

    private static int slotsFor(String name) {
        return FatNames.exactShortName(name) != null ? 1 : 1 + FatNames.lfnEntryCount(name);
    }

    private int createDir(FatDirectory parent, String name) throws IOException {
        int c = table.allocate(1).get(0);
        byte[] data = new byte[clusterSize];
        writeShortEntry(data, 0, ".          ".getBytes(StandardCharsets.ISO_8859_1), FatDirectory.ATTR_DIRECTORY, c, 0);
        // ".." of a directory in the root points to cluster 0, not to the root cluster (FAT rule).
        int parentRef = parent.firstCluster == rootCluster ? 0 : parent.firstCluster;
        writeShortEntry(data, 32, "..         ".getBytes(StandardCharsets.ISO_8859_1), FatDirectory.ATTR_DIRECTORY, parentRef, 0);
        stagedClusters.put(c, data);
        addEntry(parent, name, FatDirectory.ATTR_DIRECTORY, c, 0);
        saveDir(parent);
        return c;
    }

    /** Adds long-name entries (unless the name is a plain upper-case 8.3 name) and the short entry. */
    private void addEntry(FatDirectory dir, String name, int attr, int firstCluster, long size) throws IOException {
        byte[] exact = FatNames.exactShortName(name);
        byte[] shortName = exact != null ? exact : FatNames.uniqueAlias(name, dir.shortNames());
        int lfn = exact != null ? 0 : FatNames.lfnEntryCount(name);
        int slot = dir.freeRun(lfn + 1);
        if (slot < 0) {
            slot = grow(dir, lfn + 1);
        }
        if (lfn > 0) {
            FatNames.writeLfnEntries(dir.data, slot * 32, name, FatNames.checksum(shortName, 0));
        }
        writeShortEntry(dir.data, (slot + lfn) * 32, shortName, attr, firstCluster, size);
    }

    private void writeShortEntry(byte[] d, int o, byte[] shortName, int attr, int firstCluster, long size) {
        Arrays.fill(d, o, o + 32, (byte) 0);
        System.arraycopy(shortName, 0, d, o, 11);
        d[o + 11] = (byte) attr;
        putShort(d, o + 14, fatTime);   // created
        putShort(d, o + 16, fatDate);
        putShort(d, o + 18, fatDate);   // accessed
        putShort(d, o + 22, fatTime);   // modified
        putShort(d, o + 24, fatDate);
        putCluster(d, o, firstCluster);
        putInt(d, o + 28, (int) size);
    }

    /** Appends zeroed clusters to a directory until a free run of {@code slots} exists; its first slot. */
    private int grow(FatDirectory dir, int slots) {
        int extra = dir.growthFor(slots);
        if ((dir.slots() + (long) extra * clusterSize / 32) > MAX_DIR_ENTRIES) {
            throw new ImageException("a FAT directory cannot hold more than " + MAX_DIR_ENTRIES + " entries");
        }
        List<Integer> added = table.allocate(extra);
        int last = dir.clusters.get(dir.clusters.size() - 1);
        table.setEntry(last, added.get(0));
        dir.clusters.addAll(added);
        dir.data = Arrays.copyOf(dir.data, dir.clusters.size() * clusterSize);
        int slot = dir.freeRun(slots);
        if (slot < 0) {
            throw new IllegalStateException("directory growth miscounted");
        }
        return slot;
    }

    private void writeData(List<Integer> chain, byte[] content) {
        for (int i = 0; i < chain.size(); i++) {
            byte[] buf = new byte[clusterSize]; // the slack after the end is zeroed, deterministic
            int from = i * clusterSize;
            System.arraycopy(content, from, buf, 0, Math.min(clusterSize, content.length - from));
            stagedClusters.put(chain.get(i), buf);
        }
    }

    /** Keeps the first {@code wanted} clusters of a chain, freeing or appending (lowest free first). */
    private List<Integer> resize(List<Integer> chain, int wanted) {
        if (wanted <= chain.size()) {
            free(chain.subList(wanted, chain.size()));
            if (wanted > 0) {
                table.setEntry(chain.get(wanted - 1), FatTable.EOC);
            }
            return new ArrayList<>(chain.subList(0, wanted));
        }
        List<Integer> added = table.allocate(wanted - chain.size());
        if (!chain.isEmpty()) {
            table.setEntry(chain.get(chain.size() - 1), added.get(0));
        }
        List<Integer> all = new ArrayList<>(chain);
        all.addAll(added);
        return all;
    }




    private long clusterOffset(int cluster) {
        return dataOffset + (long) (cluster - 2) * clusterSize;
    }

    private byte[] readCluster(int cluster) throws IOException {
        byte[] staged = stagedClusters.get(cluster);
        if (staged != null) {
            return staged.clone();
        }
        return readFully(channel, offset + clusterOffset(cluster), clusterSize).array();
    }

    /** Frees clusters in the FAT; their staged data need not be written any more. */
    private void free(List<Integer> clusters) {
        table.free(clusters);
        clusters.forEach(stagedClusters::remove);
    }

    // ---------------------------------------------------------------- internals: directories

    private List<String> split(String path) {
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals(".") || p.equals("..")) {
                throw new ImageException("paths may not contain '.' or '..': " + path);
            }
            out.add(p);
        }
        return out;
    }

    private Optional<Integer> findDir(List<String> parts) throws IOException {
        int dir = rootCluster;
        for (String name : parts) {
            FatDirectory.Entry e = loadDir(dir).find(name);
            if (e == null || !e.isDirectory()) {
                return Optional.empty();
            }
            dir = e.firstCluster() == 0 ? rootCluster : e.firstCluster();
        }
        return Optional.of(dir);
    }

    private int requireDir(List<String> parts, String path) throws IOException {
        return findDir(parts).orElseThrow(() -> new ImageException("no directory '/" + String.join("/", parts)
                + "' on the FAT32 volume (for '" + path + "')"));
    }

    private FatDirectory.Entry requireEntry(String path) throws IOException {
        List<String> parts = split(path);
        int parent = requireDir(parts.subList(0, Math.max(0, parts.size() - 1)), path);
        FatDirectory.Entry e = parts.isEmpty() ? null : loadDir(parent).find(parts.get(parts.size() - 1));
        if (e == null) {
            throw new ImageException("no file '" + path + "' on the FAT32 volume");
        }
        return e;
    }

    private FatDirectory loadDir(int firstCluster) throws IOException {
        List<Integer> clusters = table.chain(firstCluster);
        byte[] data = new byte[clusters.size() * clusterSize];
        for (int i = 0; i < clusters.size(); i++) {
            System.arraycopy(readCluster(clusters.get(i)), 0, data, i * clusterSize, clusterSize);
        }
        return new FatDirectory(firstCluster, new ArrayList<>(clusters), data, clusterSize, maxCluster);
    }

    private void saveDir(FatDirectory dir) {
        for (int i = 0; i < dir.clusters.size(); i++) {
            stagedClusters.put(dir.clusters.get(i), Arrays.copyOfRange(dir.data, i * clusterSize, (i + 1) * clusterSize));
        }
    }

    // ---------------------------------------------------------------- little-endian and I/O helpers

    private static void putShort(byte[] d, int o, int v) {
        d[o] = (byte) v;
        d[o + 1] = (byte) (v >> 8);
    }

    private static void putInt(byte[] d, int o, int v) {
        putShort(d, o, v);
        putShort(d, o + 2, v >> 16);
    }

    private static void putCluster(byte[] d, int entryOffset, int cluster) {
        putShort(d, entryOffset + 20, cluster >>> 16);
        putShort(d, entryOffset + 26, cluster);
    }

    static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new ImageException("unexpected end of image at byte " + (position + buf.position()));
            }
        }
        buf.flip();
        return buf;
    }

    static void writeFully(FileChannel ch, long position, ByteBuffer buf) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            at += ch.write(buf, at);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "FAT32 volume %s (%d clusters of %d bytes, %d free)",
                label().orElse("(no label)"), clusterCount(), clusterSize, table.freeClusters());
    }
}
