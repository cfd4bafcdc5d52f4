package io.piimage.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * The boot sector ("BIOS parameter block") of a FAT file system, and its FSInfo sector checked, with the
 * FAT type decided by the cluster count as Microsoft's fatgen103 decides it. exFAT and NTFS are only
 * named ({@link #type}), so that a refusal can say what the partition holds.
 */
final class FatBootSector {

    /** Fewer clusters than this is FAT12 or FAT16, however the boot sector calls itself. */
    static final int MIN_FAT32_CLUSTERS = 65525;

    int bytesPerSector;
    int sectorsPerCluster;
    int reservedSectors;
    int numFats;
    long totalSectors;
    long fatSectors;
    long clusterCount;
    int rootCluster;
    int fsInfoSector;
    boolean mirroringDisabled;
    int activeFat;
    String label;
    String type;

    static FatBootSector read(FileChannel ch, long offset) throws IOException {
        ByteBuffer b = Fat32Volume.readFully(ch, offset, 512).order(ByteOrder.LITTLE_ENDIAN);
        String oem = FatBootSector.ascii(b, 3, 8);
        if (oem.equals("EXFAT   ")) {
            return typed("exFAT");
        }
        if (oem.equals("NTFS    ")) {
            return typed("NTFS");
        }
        if ((b.get(510) & 0xFF) != 0x55 || (b.get(511) & 0xFF) != 0xAA) {
            throw new ImageException("no FAT boot sector (missing 0x55AA signature)");
        }
        FatBootSector p = new FatBootSector();
        p.bytesPerSector = b.getShort(11) & 0xFFFF;
        p.sectorsPerCluster = b.get(13) & 0xFF;
        p.reservedSectors = b.getShort(14) & 0xFFFF;
        p.numFats = b.get(16) & 0xFF;
        int rootEntries = b.getShort(17) & 0xFFFF;
        int total16 = b.getShort(19) & 0xFFFF;
        int fat16 = b.getShort(22) & 0xFFFF;
        long total32 = Integer.toUnsignedLong(b.getInt(32));
        long fat32 = Integer.toUnsignedLong(b.getInt(36));
        if (p.bytesPerSector < 512 || p.bytesPerSector > 4096 || Integer.bitCount(p.bytesPerSector) != 1) {
            throw new ImageException("invalid FAT boot sector: bytes per sector " + p.bytesPerSector);
        }
        if (p.sectorsPerCluster == 0 || Integer.bitCount(p.sectorsPerCluster) != 1) {
            throw new ImageException("invalid FAT boot sector: sectors per cluster " + p.sectorsPerCluster);
        }
        if (p.reservedSectors == 0 || p.numFats == 0) {
            throw new ImageException("invalid FAT boot sector: reserved sectors " + p.reservedSectors
                    + ", FAT copies " + p.numFats);
        }
        // Microsoft's rule (fatgen103): the cluster count alone decides FAT12/16/32.
        long rootDirSectors = ((long) rootEntries * 32 + p.bytesPerSector - 1) / p.bytesPerSector;
        p.fatSectors = fat16 != 0 ? fat16 : fat32;
        p.totalSectors = total16 != 0 ? total16 : total32;
        long dataSectors = p.totalSectors - (p.reservedSectors + p.numFats * p.fatSectors + rootDirSectors);
        if (p.fatSectors == 0 || dataSectors <= 0) {
            throw new ImageException("invalid FAT boot sector: FAT size " + p.fatSectors + ", total sectors "
                    + p.totalSectors);
        }
        p.clusterCount = dataSectors / p.sectorsPerCluster;
        if (p.clusterCount < 4085) {
            p.type = "FAT12";
        } else if (p.clusterCount < MIN_FAT32_CLUSTERS) {
            p.type = "FAT16";
        } else {
            p.type = "FAT32";
        }
        if (!p.type.equals("FAT32")) {
            p.label = FatBootSector.ascii(b, 43, 11).strip();
            return p;
        }
        if (rootEntries != 0 || fat16 != 0 || (b.getShort(42) & 0xFFFF) != 0) {
            throw new ImageException("invalid FAT32 boot sector (root entry count " + rootEntries
                    + ", 16-bit FAT size " + fat16 + ", version " + (b.getShort(42) & 0xFFFF) + ")");
        }
        if (p.fatSectors * p.bytesPerSector / 4 < p.clusterCount + 2) {
            throw new ImageException("invalid FAT32 boot sector: the FAT is too small for "
                    + p.clusterCount + " clusters");
        }
        int extFlags = b.getShort(40) & 0xFFFF;
        p.mirroringDisabled = (extFlags & 0x80) != 0;
        p.activeFat = extFlags & 0x0F;
        p.rootCluster = b.getInt(44);
        if (p.rootCluster < 2 || p.rootCluster > p.clusterCount + 1) {
            throw new ImageException("invalid FAT32 boot sector: root cluster " + p.rootCluster);
        }
        int fsInfo = b.getShort(48) & 0xFFFF;
        p.fsInfoSector = fsInfo == 0 || fsInfo == 0xFFFF ? -1 : fsInfo;
        if (p.fsInfoSector >= p.reservedSectors) {
            throw new ImageException("invalid FAT32 boot sector: FSInfo sector " + fsInfo
                    + " outside the reserved area");
        }
        if (p.fsInfoSector > 0) {
            ByteBuffer fi = Fat32Volume.readFully(ch, offset + (long) p.fsInfoSector * p.bytesPerSector, 512)
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (fi.getInt(0) != 0x41615252 || fi.getInt(484) != 0x61417272 || fi.getInt(508) != 0xAA550000) {
                throw new ImageException("the FAT32 FSInfo sector has wrong signatures (corrupt file system)");
            }
        }
        p.label = FatBootSector.ascii(b, 71, 11).strip();
        return p;
    }

    private static FatBootSector typed(String type) {
        FatBootSector p = new FatBootSector();
        p.type = type;
        p.label = "";
        return p;
    }

    static String ascii(ByteBuffer b, int at, int len) {
        byte[] raw = new byte[len];
        b.get(at, raw);
        return new String(raw, StandardCharsets.ISO_8859_1);
    }
}
