package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FatNamesTest {

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void exactShortNamesOnlyForUpperCase83() {
        assertThat(s(FatNames.exactShortName("CONFIG.TXT"))).isEqualTo("CONFIG  TXT");
        assertThat(s(FatNames.exactShortName("SSH"))).isEqualTo("SSH        ");
        assertThat(FatNames.exactShortName("config.txt")).isNull();
        assertThat(FatNames.exactShortName("LONGERNAME.TXT")).isNull();
        assertThat(FatNames.exactShortName("A.B.C")).isNull();
        assertThat(FatNames.exactShortName("A B.TXT")).isNull();
        assertThat(FatNames.exactShortName(".HIDDEN")).isNull();
    }

    @Test
    void aliasesAreUniqueAndFollowTheBasisRules() {
        Set<String> existing = new HashSet<>();
        for (int i = 1; i <= 12; i++) {
            String alias = s(FatNames.uniqueAlias("bcm2711-rpi-4-b.dtb", existing));
            assertThat(existing.add(alias)).isTrue();
        }
        assertThat(existing).contains("BCM271~1DTB", "BCM271~9DTB", "BCM27~10DTB", "BCM27~12DTB");
        assertThat(s(FatNames.uniqueAlias(".bashrc", Set.of()))).isEqualTo("BASHRC~1   ");
        assertThat(s(FatNames.uniqueAlias("my file+name.tar.gz", Set.of()))).isEqualTo("MYFILE~1GZ ");
        assertThat(s(FatNames.uniqueAlias("日本語.txt", Set.of()))).isEqualTo("___~1   TXT");
    }

    @Test
    void checksumMatchesTheSpecAlgorithm() {
        byte[] name = "README  TXT".getBytes(StandardCharsets.ISO_8859_1);
        int sum = 0;
        for (byte b : name) {
            sum = ((sum & 1) != 0 ? 0x80 : 0) + (sum >> 1) + (b & 0xFF) & 0xFF;
        }
        assertThat(FatNames.checksum(name, 0)).isEqualTo(sum);
    }
}
