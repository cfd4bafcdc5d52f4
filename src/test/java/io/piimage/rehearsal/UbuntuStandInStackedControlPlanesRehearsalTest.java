package io.piimage.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.testing.CardSecretScan;
import io.piimage.testing.DebianRootfs;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.LanTimeServer;
import io.piimage.testing.PackageMirror;
import io.piimage.testing.QemuVm;
import io.piimage.testing.StandInImage;
import io.piimage.testing.VirtualSwitch;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rehearsal, third scenario, on the Ubuntu stand-in ({@link StandInBases#UBUNTU_STANDIN}: Ubuntu
 * raspi's layout, netplan rendering to systemd-networkd, systemd's own names for USB adapters) with the
 * endpoint mode {@code stacked}: a gateway whose uplink is a USB Ethernet adapter that systemd calls
 * {@code enx<MAC>} (the plan calls it eth1), and three control planes that run HAProxy and keepalived
 * themselves, powered on in a shuffled order with delays. The first control plane initialises the
 * cluster; the other two take the join lock in the cluster's own etcd one at a time and join as
 * control planes: the stand-in kubeadm adds each as a learner of the REAL etcd (which refuses a second
 * learner), starts its member and promotes it, so three voting members form. The third control plane
 * is seeded by hand and goes through the memory-cgroup reboot; the others boot the bake's node images.
 * The power cut in 20-install is the second scenario's (its worker), where it costs CI less time.
 */
@Tag("rehearsal")
class UbuntuStandInStackedControlPlanesRehearsalTest {

    static final Clock CLOCK = Clock.systemUTC();
    static final Duration FIRST_BOOT = Duration.ofMinutes(Long.getLong("rehearsal.firstBootMinutes", 45));
    static final Pattern FATAL = Pattern.compile(".*(to break ordering cycle|conffile prompt"
            + "|dpkg was interrupted, you must manually run|kubelet-stand-in: refusing to start:.*"
            + "|\\[ERROR [A-Za-z0-9-]+\\]:.*|memory cgroup is still disabled after a reboot.*"
            + "|gave up after [0-9]+s waiting for interface.*).*");

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster: {name: rehearsal-ha, kubernetesVersion: "1.31"}
            endpoint: {vip: 10.79.0.240, port: 8443, loadBalancer: stacked}
            network: {subnet: 10.79.0.0/24, gateway: 10.79.0.1, interface: eth0}
            os:
              image: ubuntu-24.04
              ntpServers: [10.0.2.123]
              sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop"]
            nodes:
              - {name: gw, role: gateway, address: 10.79.0.1, interface: eth0, uplink: eth1}
              - {name: cp1, role: control-plane, address: 10.79.0.11}
              - {name: cp2, role: control-plane, address: 10.79.0.12}
              - {name: cp3, role: control-plane, address: 10.79.0.13}
            """;

    static final List<String> CONTROL_PLANES = List.of("cp1", "cp2", "cp3");
    static final Map<String, String> MACS = Map.of("gw", "52:54:00:79:00:01", "cp1", "52:54:00:79:00:11",
            "cp2", "52:54:00:79:00:12", "cp3", "52:54:00:79:00:13");
    /** A globally administered address, as a real adapter's: systemd names it enx0050b6790002. */
    static final String GW_UPLINK_MAC = "00:50:b6:79:00:02";
    static final String HOME_TIME_SERVER = "10.0.2.123";
    static final String PKGS_ADDRESS = "10.0.2.101";
    /** The control plane whose card is seeded by hand; the others boot the bake's node images. */
    static final String BY_HAND = "cp3";
    static final Pattern JOIN_STARTED = Pattern.compile("\\[etcd] Added (cp[0-9]) as learner [0-9a-f]+; join started at ([0-9.]+)");
    static final Pattern JOIN_ENDED = Pattern.compile("kubeadm-stand-in] \\[etcd] join ended at ([0-9.]+)");
    static final Pattern VOTING_MEMBER = Pattern.compile("rehearsal-etcd-member: [0-9a-f]+, started, (cp[0-9]), "
            + "https://10\\.79\\.0\\.1[0-9]:2380, https://10\\.79\\.0\\.1[0-9]:2379, false");

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    private StandInImage.Image base;

    @Test
    void gatewayWithAUsbUplinkAndThreeStackedControlPlanesOnTheUbuntuStandInJoinOneAtATimeIntoThreeVotingEtcdMembers_kubeadmStandIn()
            throws Exception {
        long started = System.nanoTime();
        for (String tool : List.of("qemu-system-x86_64", "socat", "mcopy", "debugfs", "apt-ftparchive", "gpg",
                "dpkg-deb", "openssl")) {
            ExternalTool.require(tool);
        }
        Path rootfs = DebianRootfs.cached(StandInBases.UBUNTU_STANDIN);
        List<String> packages = new ArrayList<>(Rehearsal.rolePackages());
        packages.addAll(KubernetesStandInRepo.DEBIAN_DEPENDENCIES);
        PackageMirror mirror = PackageMirror.build(Files.createDirectories(tmp.resolve("mirror")), "trixie", rootfs,
                packages);
        KubernetesStandInRepo pkgs = KubernetesStandInRepo.build(Files.createDirectories(tmp.resolve("pkgs")), "1.31");
        Map<String, String> rootFiles = new TreeMap<>(Rehearsal.trustPkgsK8sIo(rootfs, pkgs, PKGS_ADDRESS));
        base = Rehearsal.ubuntuBase(Files.createDirectories(tmp.resolve("base")), rootfs, mirror.publicKey(), rootFiles);
        log(started, "mirror: " + mirror.debs().size() + " .debs; stand-in pkgs.k8s.io and the Ubuntu stand-in built");

        Path plan = Files.writeString(tmp.resolve("rehearsal-ha.yaml"), PLAN);
        Path out = tmp.resolve("out");
        Bake.builder(plan).output(out).clock(CLOCK).baseImage(base.path()).build().run();
        PoweredCards pis = new PoweredCards(tmp, DebianRootfs.kernel(rootfs), DebianRootfs.initrd(rootfs),
                base.bootOffset(), what -> log(started, what));
        Map<String, Path> cards = pis.cards;
        // cp3 is seeded by hand (the stock image with the node's three files copied on), as most users do;
        // the others boot the bake's node images. cp1 initialises the cluster and the joins wait for it,
        // so its memory-cgroup reboot would lengthen the whole run; cp3's happens while cp1 works.
        for (String node : MACS.keySet()) {
            cards.put(node, node.equals(BY_HAND)
                    ? Rehearsal.cardByHand(base, out.resolve(node), tmp.resolve(node + "-by-hand.img"))
                    : out.resolve(node + ".img"));
        }
        int mirrorPort = mirror.serve();
        int pkgsPort = pkgs.serve();
        log(started, "baked; serving the mirror and pkgs.k8s.io");

        try (mirror; pkgs; VirtualSwitch lan = new VirtualSwitch(); VirtualSwitch home = new VirtualSwitch();
             LanTimeServer timeServer = new LanTimeServer(home, HOME_TIME_SERVER, "52:54:00:79:01:23"); pis) {
            pis.nics.put("gw", List.of(QemuVm.Nic.switchPort(lan, MACS.get("gw")),
                    QemuVm.Nic.usbUplink("net=10.0.2.0/24"
                            + Rehearsal.guestForward(StandInBases.MIRROR_ADDRESS, 80, mirrorPort)
                            + Rehearsal.guestForward(PKGS_ADDRESS, 443, pkgsPort),
                            GW_UPLINK_MAC, home)));
            for (String node : CONTROL_PLANES) {
                pis.nics.put(node, List.of(QemuVm.Nic.switchPort(lan, MACS.get(node))));
            }
            pis.powerOnAll(Rehearsal.seed());
            Map<String, QemuVm> vms = pis.vms;
            pis.awaitAllDone(FIRST_BOOT, FATAL, () -> { });

            Map<String, String> consoles = pis.consoles();
            // The USB adapter: named enx<MAC> by systemd, renamed to the plan's eth1 from netplan's rule.
            assertThat(consoles.get("gw")).contains("interface eth1: not renamed yet; asking udev to apply netplan's rename");
            assertThat(consoles.get("gw")).containsAnyOf("interface eth1: renamed by udev", "interface eth1: present");
            for (String node : CONTROL_PLANES) {
                String console = consoles.get(node);
                // The card seeded by hand reboots once for the memory cgroup; the bake's node images have it already.
                assertThat(pis.boots.get(node)).as("%s: boots", node).isEqualTo(node.equals(BY_HAND) ? 2 : 1);
                if (node.equals(BY_HAND)) {
                    assertThat(console).as(node).contains("cmdline.txt: appended cgroup_enable=memory");
                }
                assertThat(console).as(node).contains("memory cgroup: enabled", "pkgs.k8s.io signing key installed",
                        "kubelet-stand-in: containerd: SystemdCgroup = true, CNI plugins in /opt/cni/bin",
                        "[kubeadm-stand-in] [preflight] Running pre-flight checks");
                assertThat(console).as("%s: NTP before apt", node)
                        .contains("the clock to be synchronised (NTP) before apt: ok");
                assertThat(pis.lastArguments.get(node)).as(node).contains("cgroup_enable=memory")
                        .doesNotContain("cgroup_disable=memory");
            }
            assertThat(consoles.get("cp1")).contains("Your Kubernetes control-plane has initialized successfully!",
                    "cni: flannel applied");
            // The joins: each once, one at a time (their windows, by the nodes' NTP clocks, never overlap).
            List<double[]> windows = new ArrayList<>();
            for (String node : List.of("cp2", "cp3")) {
                String console = consoles.get(node);
                assertThat(console).as(node).contains("join lock acquired",
                        "This node has joined the cluster and a new control plane instance was created");
                Matcher start = JOIN_STARTED.matcher(console);
                Matcher end = JOIN_ENDED.matcher(console);
                assertThat(start.find() && end.find()).as("%s: join started and ended", node).isTrue();
                windows.add(new double[] {Double.parseDouble(start.group(2)), Double.parseDouble(end.group(1))});
                assertThat(start.find()).as("%s: joined more than once", node).isFalse();
            }
            windows.sort((a, b) -> Double.compare(a[0], b[0]));
            assertThat(windows.get(0)[1]).as("the first join ended before the second began").isLessThan(windows.get(1)[0]);
            log(started, String.format("joins: %.1f-%.1f and %.1f-%.1f", windows.get(0)[0], windows.get(0)[1],
                    windows.get(1)[0], windows.get(1)[1]));
            assertThat(timeServer.answered()).as("NTP answers").isNotEmpty();

            Rehearsal.assertUnitsHealthy(vms);
            StringBuilder reports = new StringBuilder();
            for (String node : CONTROL_PLANES) {
                reports.append(Rehearsal.report(vms.get(node), Duration.ofMinutes(5)));
            }
            // Three voting etcd members in some control plane's report (each reports when it is done).
            boolean threeVoters = false;
            for (String report : reports.toString().split("rehearsal-report: end")) {
                Matcher m = VOTING_MEMBER.matcher(report);
                List<String> voters = new ArrayList<>();
                while (m.find()) {
                    voters.add(m.group(1));
                }
                threeVoters |= voters.containsAll(CONTROL_PLANES) && voters.size() == 3;
            }
            assertThat(threeVoters).as("three started voting etcd members in a report:\n%s", reports).isTrue();
            assertThat(reports.toString()).contains("\"registeredBy\": \"piimage:join:cp2\"",
                    "\"registeredBy\": \"piimage:join:cp3\"", "\"tokens\": []");
            // One VIP holder.
            int masters = 0;
            for (String node : CONTROL_PLANES) {
                masters += "MASTER".equals(Rehearsal.lastVrrpState(vms.get(node).console())) ? 1 : 0;
            }
            assertThat(masters).as("VIP holders").isEqualTo(1);

            pis.powerOffAll();
        }
        for (String node : cards.keySet()) {
            Map<String, byte[]> boot = Rehearsal.bootFiles(cards.get(node), base.bootOffset(), tmp.resolve("after-" + node));
            assertThat(new String(boot.get("piimage-status.txt"), StandardCharsets.UTF_8)).as(node)
                    .contains("node=" + node, "state=done");
        }
        Map<String, List<String>> secrets = Rehearsal.privateKeysAndTokens(Bake.defaultSecretsDir(plan));
        for (String node : cards.keySet()) {
            assertThat(CardSecretScan.leftOvers(cards.get(node), base.bootOffset(), base.rootOffset() - base.bootOffset(),
                    base.rootOffset(), 0, secrets)).as("secrets left on %s's boot partition", node).isEmpty();
        }
        log(started, "rehearsal passed");
    }

    private static void log(long started, String what) {
        System.out.printf("rehearsal +%ds: %s%n", (System.nanoTime() - started) / 1_000_000_000L, what);
    }
}
