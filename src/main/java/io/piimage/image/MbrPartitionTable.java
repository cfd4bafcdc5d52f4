package io.piimage.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The classic DOS/MBR partition table of a disk image: four primary entries and the disk id (the
 * {@code PARTUUID=xxxxxxxx-NN} prefix Raspberry Pi OS puts on cmdline.txt). Logical partitions inside
 * extended ones are not followed: Raspberry Pi images only use primaries.
 *
 * @param diskId     the 32-bit disk signature at offset 440
 * @param partitions the non-empty primary entries, in table order
 */
public record MbrPartitionTable(int diskId, List<Partition> partitions) {

    /** LBAs in an MBR count 512-byte sectors on SD cards and image files. */
    public static final int SECTOR_SIZE = 512;

    public static final int TYPE_GPT_PROTECTIVE = 0xEE;

    public MbrPartitionTable {
        partitions = List.copyOf(partitions);
    }

    /**
     * One primary partition entry.
     *
     * @param number      1..4, the N of {@code /dev/mmcblk0pN}
     * @param type        partition type byte (0x0C FAT32 LBA, 0x83 Linux, ...)
     * @param startLba    first sector
     * @param sectorCount length in sectors
     * @param bootable    the 0x80 active flag
     */
    public record Partition(int number, int type, long startLba, long sectorCount, boolean bootable) {

        public long byteOffset() {
            return startLba * SECTOR_SIZE;
        }

        public long byteLength() {
            return sectorCount * SECTOR_SIZE;
        }

        /** Types a FAT file system usually carries; the file system itself is still probed. */
        public boolean isFatType() {
            return switch (type) {
                case 0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E, 0xEF -> true;
                default -> false;
            };
        }

        @Override
        public String toString() {
            return String.format("p%d (type 0x%02x, %d MiB at %d MiB)", number, type,
                    byteLength() >> 20, byteOffset() >> 20);
        }
    }

    public Optional<Partition> partition(int number) {
        return partitions.stream().filter(p -> p.number() == number).findFirst();
    }

    /** Reads and validates the table in the first sector of {@code image}; every partition must end inside it. */
    public static MbrPartitionTable read(FileChannel image) throws IOException {
        ByteBuffer sector = ByteBuffer.allocate(SECTOR_SIZE);
        while (sector.hasRemaining()) {
            if (image.read(sector, sector.position()) < 0) {
                throw new ImageException("image is " + image.size() + " bytes, too small to hold a partition table");
            }
        }
        MbrPartitionTable table = parse(sector.array());
        long imageSize = image.size();
        for (Partition p : table.partitions) {
            if (p.byteOffset() + p.byteLength() > imageSize) {
                throw new ImageException("partition " + p + " ends at byte " + (p.byteOffset() + p.byteLength())
                        + " but the image is only " + imageSize + " bytes (truncated image?)");
            }
        }
        return table;
    }

    /** Parses a 512-byte sector 0; refuses a missing signature, GPT disks and overlapping partitions. */
    public static MbrPartitionTable parse(byte[] sector0) {
        if (sector0.length < SECTOR_SIZE) {
            throw new ImageException("sector 0 is shorter than " + SECTOR_SIZE + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(sector0).order(ByteOrder.LITTLE_ENDIAN);
        if ((b.get(510) & 0xFF) != 0x55 || (b.get(511) & 0xFF) != 0xAA) {
            throw new ImageException("no MBR partition table: sector 0 does not end in 0x55AA");
        }
        List<Partition> parts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int e = 446 + 16 * i;
            int status = b.get(e) & 0xFF;
            int type = b.get(e + 4) & 0xFF;
            long start = Integer.toUnsignedLong(b.getInt(e + 8));
            long count = Integer.toUnsignedLong(b.getInt(e + 12));
            if (type == TYPE_GPT_PROTECTIVE) {
                throw new ImageException("the image uses a GPT partition table (protective MBR entry 0xEE);"
                        + " only MBR images (as Raspberry Pi images ship) are supported");
            }
            if (type == 0 || count == 0) {
                continue;
            }
            if (status != 0x00 && status != 0x80) {
                throw new ImageException(String.format("MBR entry %d has invalid status byte 0x%02x", i + 1, status));
            }
            parts.add(new Partition(i + 1, type, start, count, status == 0x80));
        }
        // Partitions that share sectors: a change to one would change the other (and the table itself
        // lives in sector 0). Sorted by start, each must end before the next begins.
        List<Partition> byStart = new ArrayList<>(parts);
        byStart.sort(java.util.Comparator.comparingLong(Partition::startLba));
        for (int i = 0; i < byStart.size(); i++) {
            Partition p = byStart.get(i);
            if (p.startLba() == 0) {
                throw new ImageException("partition " + p + " starts at sector 0, over the partition table itself");
            }
            if (i + 1 < byStart.size() && byStart.get(i + 1).startLba() < p.startLba() + p.sectorCount()) {
                Partition next = byStart.get(i + 1);
                throw new ImageException("partitions " + p + " and " + next + " overlap: sectors " + next.startLba()
                        + ".." + (Math.min(p.startLba() + p.sectorCount(), next.startLba() + next.sectorCount()) - 1)
                        + " belong to both; refusing an image whose partitions share sectors");
            }
        }
        return new MbrPartitionTable(b.getInt(440), parts);
    }
}
