package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Phase 15-packages where the packages meet what is already on the card (found by the rehearsal, where
 * nothing is preinstalled): the configuration files cloud-init wrote before their packages exist
 * (HAProxy's haproxy.cfg, nftables.conf are the packages' conffiles: dpkg asks on a console nobody
 * reads, and fails the install at EOF), and dpkg's half-done work after a power cut while it unpacked
 * (apt-get refuses every install until {@code dpkg --configure -a}). The recording stand-ins for
 * apt-get and dpkg answer as the real ones do in both cases.
 */
class PackagesOverTheCardsFilesStandInTest {

    @TempDir
    Path dir;

    Path bin;
    Path root;

    @BeforeEach
    void loadBalancer() throws IOException {
        ExternalTool.require("bash");
        bin = BakedNodes.standIns(dir);
        BakedNodes baked = BakedNodes.bake(dir, "pk-plan", Files.readString(Project.example("makina.yaml")));
        root = baked.layOut("lb1", Files.createDirectories(dir.resolve("root")));
        PreparePhasesTest.onlyUpTo(root, "15-packages");
    }

    @Test
    void theCardsHaproxyCfgIsKeptAndTheInstallDoesNotStopAtDpkgsQuestion() throws Exception {
        assertThat(root.resolve("etc/haproxy/haproxy.cfg")).as("written by cloud-init before HAProxy is installed")
                .exists();
        BakedNodes.write(root, "stand-in/conffiles", "haproxy /etc/haproxy/haproxy.cfg\n");

        ProcessResult result = PackagesPhaseStandInTest.runFast(bin, root, "PIIMAGE_APT_WAIT=3");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).doesNotContain("conffile prompt").contains("packages: installed keepalived curl haproxy");
        assertThat(PackagesPhaseStandInTest.aptCalls(root)).contains(PackagesPhaseStandInTest.INSTALL + "keepalived curl haproxy");
    }

    @Test
    void dpkgInterruptedByAPowerCutIsFinishedBeforeTheInstall() throws Exception {
        Path updates = Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
        Files.writeString(updates.resolve("0004"), "Package: haproxy\nStatus: install ok half-installed\n");

        ProcessResult result = PackagesPhaseStandInTest.runFast(bin, root, "PIIMAGE_APT_WAIT=3");
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("dpkg was interrupted (a power cut?): dpkg --configure -a",
                "packages: installed keepalived curl haproxy");
        List<String> calls = PreparePhasesTest.calls(root).lines()
                .filter(l -> l.startsWith("dpkg ") || l.startsWith("apt-get ") && l.contains(" install ")).toList();
        assertThat(calls).containsExactly("dpkg --force-confdef --force-confold --configure -a",
                PackagesPhaseStandInTest.INSTALL + "keepalived curl haproxy");
        try (var left = Files.list(updates)) {
            assertThat(left).isEmpty();
        }
    }
}
