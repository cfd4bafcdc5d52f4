package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SyntaxTest {

    static final String RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDFT70oRKzCCkYER7nhI6iKSQ8LSHKoPWRnFSTQeXDrvqC/AghT0PUjSsmg0OUuU"
            + "uCivJjnueLdoC6Uel5UwBFEpnNKTlPM69pf9Wqqm2+StPjQBZjGYr7uLQsUHwYwj1WeeKUgYcjyhY495QTDSe2lTOAHpxQmN5/Rp9csgc9zHhbKu3PEO"
            + "l009h65lHyuRh9SVhhsu2L8UL1xwx7nNX7wUB6slYbghdN6TMszZjp2oZovee42SIs/Lkm2bzICLU6BrwA58B8tWKQsoFDmmNpSXh1Ls/CJ69HGdO5V2p"
            + "x86spaQ4GTvoKKbJ7gFFXnKYgSR+cQYBl57ivhzkpIC2kD me@laptop";
    static final String ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGPdAuwECFGCiR8Lr2xmP1vV"
            + "hv55mCy6S1ZohLcdgH6f/kV49GnrE6jSP9hHGI2mmiQ1A5DlUDrvfIiDq5Rr4Nw= me@laptop";

    @Test
    void levenshteinCountsEdits() {
        assertThat(Syntax.levenshtein("adress", "address")).isEqualTo(1);
        assertThat(Syntax.levenshtein("podsubnet", "podsubnet")).isZero();
        assertThat(Syntax.levenshtein("kitten", "sitting")).isEqualTo(3);
        assertThat(Syntax.levenshtein("", "abc")).isEqualTo(3);
    }

    @Test
    void didYouMeanPrefersACaseOnlyDifferenceThenTheClosestWithinTwo() {
        List<String> keys = List.of("subnet", "podSubnet", "serviceSubnet");
        assertThat(Syntax.didYouMean("PODSUBNET", keys)).isEqualTo("; did you mean 'podSubnet'?");
        assertThat(Syntax.didYouMean("sbunet", keys)).isEqualTo("; did you mean 'subnet'?");
        assertThat(Syntax.didYouMean("network", keys)).isEmpty();
        // Two edits would rewrite "os" completely: no suggestion.
        assertThat(Syntax.didYouMean("ip", List.of("os"))).isEmpty();
    }

    @Test
    void realRsaAndEcdsaPublicKeysAreAccepted() {
        assertThat(Syntax.sshKeyProblem(RSA)).isNull();
        assertThat(Syntax.sshKeyProblem(ECDSA)).isNull();
        assertThat(Syntax.sshKeyProblem(PlanTexts.KEY)).isNull();
    }

    @Test
    void aKeyWhoseTypeDisagreesWithItsDataIsRefused() {
        String swapped = "ssh-ed25519 " + RSA.split(" ")[1];
        assertThat(Syntax.sshKeyProblem(swapped)).isEqualTo("the ssh-ed25519 key data is damaged or cut short; copy the whole line again");
        String cut = RSA.substring(0, 200);
        assertThat(Syntax.sshKeyProblem(cut)).isEqualTo("the ssh-rsa key data is damaged or cut short; copy the whole line again");
    }

    @Test
    void labelKeysFollowKubernetesSyntax() {
        assertThat(Syntax.labelKeyProblem("topology.kubernetes.io/zone")).isNull();
        assertThat(Syntax.labelKeyProblem("disk_type.v2")).isNull();
        assertThat(Syntax.labelKeyProblem("-zone")).isNotNull();
        assertThat(Syntax.labelKeyProblem("a/b/c")).isNotNull();
        assertThat(Syntax.labelValueProblem("")).isNull();
        assertThat(Syntax.labelValueProblem("a".repeat(63))).isNull();
    }

    @Test
    void registryHostsAndUrls() {
        assertThat(Syntax.isRegistryHost("registry.neko.lab:5005")).isTrue();
        assertThat(Syntax.isRegistryHost("docker.io")).isTrue();
        assertThat(Syntax.isRegistryHost("registry.lab:99999")).isFalse();
        assertThat(Syntax.isHttpUrl("http://registry.lab:5005")).isTrue();
        assertThat(Syntax.isHttpUrl("https://mirror.gcr.io/v2")).isTrue();
        assertThat(Syntax.isHttpUrl("registry.lab:5005")).isFalse();
        assertThat(Syntax.isHttpUrl("ftp://registry.lab")).isFalse();
    }
}
