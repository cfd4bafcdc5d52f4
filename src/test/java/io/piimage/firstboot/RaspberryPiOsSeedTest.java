package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.NodeCard;
import io.piimage.render.NodeFile;
import io.piimage.testing.Project;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a Raspberry Pi OS card needs beyond Ubuntu's: sshd enabled (pi-gen builds with ENABLE_SSH=0)
 * and a userconf.txt, so that userconf-pi's console wizard cannot hold the boot before cloud-final.
 */
class RaspberryPiOsSeedTest {

    @TempDir
    java.nio.file.Path dir;

    static final String RASPIOS_PLAN = PreparePhasesTest.PI5_PLAN;

    @SuppressWarnings("unchecked")
    static List<String> runcmd(BakedNodes baked, String node) {
        return (List<String>) baked.cloudConfig(node).get("runcmd");
    }

    static NodeCard card(BakedNodes baked, String node) {
        return baked.result.cards().stream().filter(c -> c.node().name().equals(node)).findFirst().orElseThrow();
    }

    @Test
    void raspberryPiOsCardsEnableSshAndAnswerTheUserWizard() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "rpi-os", RASPIOS_PLAN);
        List<String> runcmd = runcmd(baked, "m1");
        // What Raspberry Pi Imager writes; before the first-boot unit so that a slow assembly cannot delay it.
        assertThat(runcmd.get(0)).isEqualTo("systemctl enable --now ssh");
        assertThat(runcmd).contains("systemctl enable --now --no-block piimage-firstboot.service");

        NodeFile userconf = card(baked, "m1").bootFiles().file("userconf.txt").orElseThrow();
        String line = new String(userconf.content(), StandardCharsets.UTF_8);
        assertThat(line).isEqualTo("pi:!\n");
        assertThat(Files.readString(baked.out.resolve("m1/userconf.txt"))).isEqualTo(line);
        // userconf-pi's userconf-service takes "user:encrypted-password" from the first line and only goes
        // non-interactive when the user name is valid and the password field is not empty.
        String[] fields = line.strip().split(":", -1);
        assertThat(fields[0]).matches("[a-z][a-z0-9-]*");
        assertThat(fields[1]).isNotEmpty();
        // The image's own first user: the wizard renames nothing, and its password stays locked.
        assertThat(fields[0]).isEqualTo(card(baked, "m1").profile().defaultUser());
    }

    @Test
    void ubuntuCardsNeitherEnableSshNorCarryUserconf() throws Exception {
        BakedNodes baked = BakedNodes.bake(dir, "ubuntu", Files.readString(Project.example("makina.yaml")));
        for (var node : baked.result.plan().nodes()) {
            assertThat(runcmd(baked, node.name())).as(node.name()).doesNotContain("systemctl enable --now ssh");
            assertThat(card(baked, node.name()).bootFiles().file("userconf.txt")).as(node.name()).isEmpty();
        }
    }
}
