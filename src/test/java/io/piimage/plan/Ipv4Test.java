package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class Ipv4Test {

    @Test
    void addressesAreEqualExactlyWhenTheirBitsAre() {
        // equals and hashCode are written out (not the record's own): they must still mean the value.
        Ipv4 a = Ipv4.parse("192.168.3.11");
        assertThat(a).isEqualTo(Ipv4.parse("192.168.3.11")).hasSameHashCodeAs(Ipv4.parse("192.168.3.11"))
                .isEqualTo(new Ipv4(a.bits())).isEqualTo(Ipv4.parse("192.168.3.10").plus(1))
                .isNotEqualTo(Ipv4.parse("192.168.3.12")).isNotEqualTo("192.168.3.11").isNotEqualTo(null);
        Set<Ipv4> set = new HashSet<>();
        for (int i = 0; i < 512; i++) {
            set.add(Ipv4.parse("10.0.0.0").plus(i));
            set.add(Ipv4.parse("10.0.0.0").plus(i));
        }
        assertThat(set).hasSize(512).contains(Ipv4.parse("10.0.1.255")).doesNotContain(Ipv4.parse("10.0.2.0"));
        assertThat(Ipv4.parse("255.255.255.255")).isEqualTo(new Ipv4(-1)).hasToString("255.255.255.255");
    }
}
