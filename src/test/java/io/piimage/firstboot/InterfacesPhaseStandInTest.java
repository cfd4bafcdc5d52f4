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
 * The gateway's interfaces on its first boot, with the recording stand-ins for udevadm, systemctl,
 * sysctl and nft (no udev or kernel interfaces to rename here; ip is a stand-in too, answering from
 * the test's files): phase 05-interfaces gets the USB adapter under the plan's name, and phase
 * 30-gateway serves nothing before the uplink has an address.
 */
class InterfacesPhaseStandInTest {

    @TempDir
    Path dir;

    Path bin;

    @BeforeEach
    void tools() throws IOException {
        ExternalTool.require("bash");
        bin = BakedNodes.standIns(dir);
        for (String tool : List.of("nft", "ip")) {
            Files.createSymbolicLink(bin.resolve(tool), Project.root().resolve("src/test/standins/recording-stand-in"));
        }
    }

    /** The makina gateway (Ubuntu): eth1 is the USB adapter, still called enx<MAC> on its first boot. */
    Path gateway() throws IOException {
        BakedNodes baked = BakedNodes.bake(dir, "if-plan", Files.readString(Project.example("makina.yaml")));
        Path root = baked.layOut("gw", Files.createDirectories(dir.resolve("root")));
        Files.move(root.resolve("sys/class/net/eth1"), root.resolve("sys/class/net/enx00e04c680001"));
        // What netplan generate wrote from the rendered network-config (BakedOutputRealToolsTest runs the real one).
        BakedNodes.write(root, "run/systemd/network/10-netplan-eth1.link", "[Match]\nOriginalName=enx*\n\n[Link]\nName=eth1\n");
        return root;
    }

    ProcessResult run(Path root, String... env) {
        return PackagesPhaseStandInTest.runFast(bin, root, env);
    }

    @Test
    void theUsbAdapterIsRenamedByUdevOnTheFirstBoot() throws Exception {
        Path root = gateway();
        PreparePhasesTest.onlyUpTo(root, "05-interfaces");
        BakedNodes.write(root, "stand-in/udev-renames", "enx00e04c680001 eth1\n");

        ProcessResult result = run(root);
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.stderr()).contains("interface eth1: not renamed yet", "interface eth1: renamed by udev",
                "interface eth0: present");
        assertThat(PreparePhasesTest.calls(root)).contains("udevadm trigger --action=add --subsystem-match=net")
                .doesNotContain("reboot");
    }

    @Test
    void withoutAUdevRenameTheGatewayRebootsOnceThenWaitsBoundedForTheAdapter() throws Exception {
        Path root = gateway();
        PreparePhasesTest.onlyUpTo(root, "05-interfaces");

        ProcessResult first = run(root);
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(PreparePhasesTest.calls(root)).contains("systemctl --no-block reboot");
        assertThat(Files.readString(root.resolve("boot/firmware/piimage-status.txt"))).contains("state=rebooting");

        // After the reboot udev named it at boot: the phase goes on.
        Files.writeString(root.resolve("proc/sys/kernel/random/boot_id"), "boot-2\n");
        Files.move(root.resolve("sys/class/net/enx00e04c680001"), root.resolve("sys/class/net/eth1"));
        ProcessResult after = run(root);
        assertThat(after.exitCode()).as(after.output()).isZero();
        assertThat(after.stderr()).contains("interface eth1: present");
        assertThat(PreparePhasesTest.calls(root).lines().filter(l -> l.contains("reboot"))).hasSize(1);

        // A card whose adapter is unplugged: no second reboot, a bounded wait and a clear error.
        Files.delete(root.resolve("var/lib/piimage/done"));
        Files.delete(root.resolve("var/lib/piimage/phases/05-interfaces.done"));
        Files.delete(root.resolve("sys/class/net/eth1/operstate"));
        Files.delete(root.resolve("sys/class/net/eth1"));
        ProcessResult unplugged = run(root, "PIIMAGE_INTERFACE_WAIT=1");
        assertThat(unplugged.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("var/lib/piimage/state")))
                .contains("last_error=gave up after 1s waiting for interface eth1 (is the adapter plugged in?)");
        assertThat(PreparePhasesTest.calls(root).lines().filter(l -> l.contains("reboot"))).hasSize(1);
    }

    @Test
    void theGatewayServesOnlyOnceItsUplinkHasAnAddress() throws Exception {
        Path root = gateway();
        Files.move(root.resolve("sys/class/net/enx00e04c680001"), root.resolve("sys/class/net/eth1"));
        PreparePhasesTest.onlyUpTo(root, "30-gateway");
        Files.writeString(root.resolve("var/lib/piimage/phases/15-packages.done"), "");

        // No DHCP lease yet: the stand-in ip prints no address; nothing is started.
        ProcessResult waiting = run(root, "PIIMAGE_UPLINK_WAIT=1");
        assertThat(waiting.exitCode()).isNotZero();
        assertThat(Files.readString(root.resolve("var/lib/piimage/state")))
                .contains("last_error=gave up after 1s waiting for an IPv4 address on the uplink eth0");
        assertThat(PreparePhasesTest.calls(root)).contains("ip -4 -o address show dev eth0 scope global")
                .doesNotContain("restart nftables", "restart dnsmasq");

        BakedNodes.write(root, "stand-in/ip-address", "2: eth0    inet 192.168.1.50/24 brd 192.168.1.255 scope global dynamic eth0\n");
        ProcessResult served = run(root);
        assertThat(served.exitCode()).as(served.output()).isZero();
        assertThat(served.stderr()).contains("gateway: uplink eth0 has 192.168.1.50/24");
        assertThat(PreparePhasesTest.calls(root)).contains("systemctl restart nftables.service", "systemctl restart dnsmasq.service");
    }
}
