package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class MbrPartitionTableTest {

    private static byte[] sector(int type1, int type2) {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(440, 0x1234abcd);
        b.put(446, (byte) 0x80).put(446 + 4, (byte) type1).putInt(446 + 8, 16384).putInt(446 + 12, 1048576);
        b.put(462 + 4, (byte) type2).putInt(462 + 8, 16384 + 1048576).putInt(462 + 12, 0x80000000);
        b.put(510, (byte) 0x55).put(511, (byte) 0xAA);
        return b.array();
    }

    @Test
    void readsPrimaryEntries() {
        MbrPartitionTable t = MbrPartitionTable.parse(sector(0x0C, 0x83));
        assertThat(t.diskId()).isEqualTo(0x1234abcd);
        assertThat(t.partitions()).containsExactly(
                new MbrPartitionTable.Partition(1, 0x0C, 16384, 1048576, true),
                new MbrPartitionTable.Partition(2, 0x83, 16384 + 1048576, 0x80000000L, false));
        assertThat(t.partition(1).orElseThrow().byteOffset()).isEqualTo(8L << 20);
        assertThat(t.partition(1).orElseThrow().isFatType()).isTrue();
        assertThat(t.partition(2).orElseThrow().byteLength()).isEqualTo(1L << 40); // unsigned sector count
        assertThat(t.partition(3)).isEmpty();
    }

    @Test
    void refusesMissingSignatureAndGpt() {
        byte[] noSig = sector(0x0C, 0x83);
        noSig[511] = 0;
        assertThatThrownBy(() -> MbrPartitionTable.parse(noSig)).isInstanceOf(ImageException.class)
                .hasMessageContaining("0x55AA");
        assertThatThrownBy(() -> MbrPartitionTable.parse(sector(0xEE, 0))).isInstanceOf(ImageException.class)
                .hasMessageContaining("GPT");
    }

    private static byte[] twoPartitions(long start1, long count1, long start2, long count2) {
        ByteBuffer b = ByteBuffer.wrap(sector(0x0C, 0x83)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(446 + 8, (int) start1).putInt(446 + 12, (int) count1);
        b.putInt(462 + 8, (int) start2).putInt(462 + 12, (int) count2);
        return b.array();
    }

    @Test
    void refusesPartitionsThatShareSectors() {
        // Adjacent is fine; one sector of overlap, either order in the table, or one inside the other is not.
        assertThat(MbrPartitionTable.parse(twoPartitions(2048, 1000, 3048, 500)).partitions()).hasSize(2);
        assertThatThrownBy(() -> MbrPartitionTable.parse(twoPartitions(2048, 1001, 3048, 500)))
                .isInstanceOf(ImageException.class).hasMessageStartingWith("partitions p1 ").hasMessageContaining(" and p2 ")
                .hasMessageContaining("overlap: sectors 3048..3048 belong to both");
        assertThatThrownBy(() -> MbrPartitionTable.parse(twoPartitions(3048, 500, 2048, 1001)))
                .isInstanceOf(ImageException.class).hasMessageStartingWith("partitions p2 ")
                .hasMessageContaining("overlap: sectors 3048..3048 belong to both");
        assertThatThrownBy(() -> MbrPartitionTable.parse(twoPartitions(2048, 100_000, 4096, 10)))
                .isInstanceOf(ImageException.class).hasMessageContaining("overlap: sectors 4096..4105 belong to both");
        assertThatThrownBy(() -> MbrPartitionTable.parse(twoPartitions(0, 1000, 3048, 500)))
                .isInstanceOf(ImageException.class).hasMessageContaining("starts at sector 0, over the partition table");
    }

    @Test
    void refusesPartitionsBeyondTheImagesEnd(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path img = tmp.resolve("short.img");
        java.nio.file.Files.write(img, twoPartitions(2048, 1000, 3048, 500));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.READ)) {
            ch.truncate(3548L * 512);
            ch.write(ByteBuffer.wrap(new byte[] {0}), 3548L * 512 - 1);
            assertThat(MbrPartitionTable.read(ch).partitions()).hasSize(2); // ends exactly at the image's end
            ch.truncate(3548L * 512 - 1);
            assertThatThrownBy(() -> MbrPartitionTable.read(ch)).isInstanceOf(ImageException.class)
                    .hasMessageContaining("partition p2").hasMessageContaining("ends at byte " + 3548L * 512)
                    .hasMessageContaining("the image is only " + (3548L * 512 - 1) + " bytes");
        }
    }
}
