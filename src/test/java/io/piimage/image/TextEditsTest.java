package io.piimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TextEditsTest {

    private static final String UBUNTU = "console=serial0,115200 dwc_otg.lpm_enable=0 console=tty1 root=LABEL=writable"
            + " rootfstype=ext4 rootwait fixrtc quiet splash\n";

    @Test
    void cmdlineAppendKeepsEverythingAndIsIdempotent() {
        String once = CmdlineTxt.appendOnce(UBUNTU, "cgroup_enable=memory");
        assertThat(once).isEqualTo(UBUNTU.replace("\n", " cgroup_enable=memory\n"));
        assertThat(CmdlineTxt.appendOnce(once, "cgroup_enable=memory")).isSameAs(once);
        assertThat(CmdlineTxt.appendOnce("root=PARTUUID=1234abcd-02 rootwait", "x=1"))
                .isEqualTo("root=PARTUUID=1234abcd-02 rootwait x=1");
        assertThat(CmdlineTxt.appendOnce("a  \r\n", "b")).isEqualTo("a b\r\n");
        // a token that only starts like an existing one is still added
        assertThat(CmdlineTxt.appendOnce("cgroup_enable=memoryx\n", "cgroup_enable=memory"))
                .isEqualTo("cgroup_enable=memoryx cgroup_enable=memory\n");
    }

    @Test
    void cmdlineRefusals() {
        assertThatThrownBy(() -> CmdlineTxt.appendOnce("a\nb\n", "c")).isInstanceOf(ImageException.class)
                .hasMessageContaining("single line");
        assertThatThrownBy(() -> CmdlineTxt.appendOnce("a", "b c")).isInstanceOf(ImageException.class);
        String nearlyFull = "x".repeat(2040);
        assertThat(CmdlineTxt.appendOnce(nearlyFull, "y=12345")).hasSize(2048);
        assertThatThrownBy(() -> CmdlineTxt.appendOnce(nearlyFull, "y=123456")).isInstanceOf(ImageException.class)
                .hasMessageContaining("2048");
    }

    @Test
    void configAddsSectionAtTheEndOrLineInsideExistingSection() {
        String config = "[all]\nkernel=vmlinuz\n\n[pi4]\narm_boost=1\n";
        String added = ConfigTxt.ensureSection(config, "[pi5]", "kernel=kernel8.img");
        assertThat(added).isEqualTo(config + "\n[pi5]\nkernel=kernel8.img\n");
        assertThat(ConfigTxt.ensureSection(added, "pi5", "kernel=kernel8.img")).isSameAs(added);

        String withPi5 = "[pi5]\ndtparam=x\n\n[all]\ndtparam=audio=on\n";
        assertThat(ConfigTxt.ensureSection(withPi5, "[pi5]", "kernel=kernel8.img"))
                .isEqualTo("[pi5]\ndtparam=x\nkernel=kernel8.img\n\n[all]\ndtparam=audio=on\n");
        assertThat(ConfigTxt.ensureSection("a=1\r\n", "[pi5]", "k=v")).isEqualTo("a=1\r\n\r\n[pi5]\r\nk=v\r\n");
        assertThat(ConfigTxt.ensureSection("", "[pi5]", "k=v")).isEqualTo("[pi5]\nk=v\n");
        // a setting under another section does not count
        assertThat(ConfigTxt.ensureSection("[pi4]\nk=v\n", "[pi5]", "k=v")).isEqualTo("[pi4]\nk=v\n\n[pi5]\nk=v\n");
    }

    @Test
    void configRefusesLinesTheFirmwareWouldCut() {
        assertThat(ConfigTxt.ensureSection("", "[all]", "x=" + "a".repeat(96))).contains("x=");
        assertThatThrownBy(() -> ConfigTxt.ensureSection("", "[all]", "x=" + "a".repeat(97)))
                .isInstanceOf(ImageException.class).hasMessageContaining("98");
        assertThatThrownBy(() -> ConfigTxt.ensureSection("", "[all]", "a=1\nb=2")).isInstanceOf(ImageException.class);
    }
}
