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
}
