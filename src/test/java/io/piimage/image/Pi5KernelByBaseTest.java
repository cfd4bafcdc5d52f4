package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.image.TestImages.Image;
import io.piimage.image.TestImages.Layout;
import io.piimage.pipeline.Bake;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bake --base-image} edits config.txt for a {@code model: pi5} node according to the base: only a
 * base that ships kernel8.img (Raspberry Pi OS) gets {@code [pi5] kernel=kernel8.img}; Ubuntu's boot
 * partition boots vmlinuz and has no kernel8.img, and a {@code kernel=} naming a missing file would
 * leave the Pi 5 unable to boot. Images built with the real tools (sfdisk, mkfs.vfat, mtools).
 */
class Pi5KernelByBaseTest {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-01T00:00:00Z"), ZoneOffset.UTC);
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop";

    @TempDir
    Path tmp;

    String bakedConfigTxt(Layout layout, String profile, Map<String, byte[]> bootFiles) throws Exception {
        Image base = TestImages.build(tmp, layout, "32", 64, bootFiles);
        Path plan = Files.writeString(tmp.resolve("p5.yaml"), "apiVersion: piimage/v1\n"
                + "cluster: {name: p5, kubernetesVersion: \"1.31\"}\n"
                + "endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}\n"
                + "network: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}\n"
                + "os: {image: " + profile + ", sshAuthorizedKeys: [\"" + KEY + "\"]}\n"
                + "nodes:\n"
                + "  - {name: cp1, role: control-plane, address: 10.30.0.11, model: pi5}\n");
        Path out = tmp.resolve("out");
        Bake.builder(plan).output(out).clock(CLOCK).baseImage(base.path()).build().run();
        Map<String, byte[]> files = TestImages.readAllWithMtools(out.resolve("cp1.img"), base.bootOffset(), tmp.resolve("read"));
        return new String(files.get("config.txt"), StandardCharsets.UTF_8);
    }

    @Test
    void ubuntuBaseWithoutKernel8ImgKeepsItsKernelLine() throws Exception {
        Map<String, byte[]> files = new TreeMap<>(TestImages.prefill(Layout.UBUNTU));
        // Ubuntu's boot partition: vmlinuz + initrd.img, no kernel8.img.
        files.remove("kernel8.img");
        files.put("vmlinuz", TestImages.bytes("vmlinuz", 600_000));
        files.put("initrd.img", TestImages.bytes("initrd", 300_000));
        String config = bakedConfigTxt(Layout.UBUNTU, "ubuntu-24.04", files);
        assertThat(config).doesNotContain("kernel8.img").contains("kernel=vmlinuz")
                .isEqualTo(new String(files.get("config.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void raspberryPiOsBaseWithKernel8ImgGetsThe4kKernelOnThePi5Only() throws Exception {
        Map<String, byte[]> files = new TreeMap<>(TestImages.prefill(Layout.PI_OS));
        files.put("config.txt", "[all]\narm_64bit=1\n\n[cm5]\ndtoverlay=dwc2,dr_mode=host\n\n[all]\n"
                .getBytes(StandardCharsets.US_ASCII));
        String config = bakedConfigTxt(Layout.PI_OS, "raspios-trixie", files);
        assertThat(config).endsWith("\n[pi5]\nkernel=kernel8.img\n").startsWith("[all]\narm_64bit=1\n");
    }
}
