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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rehearsal, first scenario, on the Raspberry Pi OS stand-in ({@link StandInBases#RASPIOS_TRIXIE}:
 * Debian trixie, x86-64 under QEMU's TCG, no Pi firmware: the kernel comes from QEMU's command line with
 * the card's own cmdline.txt arguments). A gateway, two dedicated load balancers and a control plane behind
 * them are baked from the stand-in base and powered on in a shuffled order with delays, never the gateway
 * first. Nothing that a card installs at boot is in the base: the cards install it from a package mirror
 * that the test builds from Debian's .debs and signs, and Kubernetes from the rehearsal's pkgs.k8s.io
 * ({@link KubernetesStandInRepo}), both on the gateway's home side only (its uplink is a USB Ethernet
 * adapter on QEMU's user network, restrict=on); the others on the cluster LAN (a hub on 127.0.0.1)
 * reach them only once the gateway routes for them. The VIP comes up on a load balancer before the
 * control plane's apiserver does; the control plane initialises the cluster and then reaches it only
 * through the VIP (the bootstrap token's deletion and the pod network's manifest go to the endpoint),
 * that is through HAProxy on whichever load balancer holds it, which must have found the apiserver
 * healthy with its /healthz check.
 *
 * <p>Faults: lb1 is reset (the reset button, no shutdown) on its first boot after cloud-init wrote the
 * node's files and before the first-boot runner flushed them (a test hook holds the runner's first start
 * until then, {@link #LB1_HOLD});
 * lb2 loses power (its QEMU is killed) while it installs packages, and is powered on again. Both must
 * finish.
 */
@Tag("rehearsal")
class RaspiosStandInLoadBalancersRehearsalTest {

    /** Baked now: the control plane's certificates are checked against the cards' clocks (NTP, this machine's). */
    static final Clock CLOCK = Clock.systemUTC();
    /**
     * TCG boots of four VMs on a shared 2-core machine: generous, the test reports what it took
     * ({@code -Drehearsal.firstBootMinutes=} changes it).
     */
    static final Duration FIRST_BOOT = Duration.ofMinutes(Long.getLong("rehearsal.firstBootMinutes", 40));
    /** Console lines that mean a node will never finish by itself: the test stops at the first one. */
    static final Pattern FATAL = Pattern.compile(".*(to break ordering cycle|conffile prompt"
            + "|dpkg was interrupted, you must manually run|kubelet-stand-in: refusing to start:.*"
            + "|\\[ERROR [A-Za-z0-9-]+\\]:.*|memory cgroup is still disabled after a reboot.*).*");

    static final String PLAN = """
            apiVersion: piimage/v1
            cluster: {name: rehearsal, kubernetesVersion: "1.31"}
            endpoint: {vip: 10.77.0.240, port: 9000, loadBalancer: dedicated}
            network: {subnet: 10.77.0.0/24, gateway: 10.77.0.1, interface: eth0}
            os:
              image: raspios-trixie
              ntpServers: [10.0.2.123]
              sshAuthorizedKeys: ["%s"]
            nodes:
              - {name: gw, role: gateway, address: 10.77.0.1, interface: eth0, uplink: eth1}
              - {name: lb1, role: load-balancer, address: 10.77.0.241}
              - {name: lb2, role: load-balancer, address: 10.77.0.242}
              - {name: cp1, role: control-plane, address: 10.77.0.251}
            """;

    static final Map<String, String> MACS = Map.of("gw", "52:54:00:77:00:01", "lb1", "52:54:00:77:00:41",
            "lb2", "52:54:00:77:00:42", "cp1", "52:54:00:77:00:51");
    /** The gateway's USB adapter: a universally administered MAC, as a real adapter has. */
    static final String GW_UPLINK_MAC = "00:50:b6:77:00:02";
    /** What QEMU's user network gives the first DHCP client, the gateway's uplink. */
    static final String GW_UPLINK_ADDRESS = "10.0.2.15";
    /**
     * The home LAN's time server (a router or NAS that serves NTP, as many do), which the plan names in
     * {@code os.ntpServers}: the gateway reaches it on its uplink, the others through the gateway.
     */
    static final String HOME_TIME_SERVER = "10.0.2.123";
    /** Where pkgs.k8s.io is on the home side (the stand-in internet's DNS answers with it). */
    static final String PKGS_ADDRESS = "10.0.2.101";

    /**
     * Rehearsal fault injection (not part of any real card): on lb1's first boot, the first-boot unit
     * flushes the card (so cloud-init's record of having written the node's files, sem/config_write_files,
     * is on it), says so and waits, before the runner has flushed and recorded them itself, until the
     * test presses reset. Two earlier forms lost CI runs: a reset as cloud-init's final stage started
     * raced the runner, which starts beside it, and a 30 s hold with a reset 10 s in was outlasted by the
     * test's own latency on a loaded machine (the runner had recorded the files before the reset came).
     * The marker is flushed with the rest, so the boot after the reset is not held.
     */
    static final String LB1_HOLD_PATH = "/etc/systemd/system/piimage-firstboot.service.d/rehearsal-hold.conf";
    static final String LB1_HOLD = """
            # Rehearsal fault injection (not part of any real card): on lb1's first boot, flush the card and
            # hold the first-boot runner until the test presses reset (at most 10 minutes).
            [Service]
            ExecStartPre=/bin/sh -c 'if [ "$$(hostname)" = lb1 ] && [ ! -e /var/lib/rehearsal-held ]; then touch /var/lib/rehearsal-held; sync; echo "rehearsal-hold: lb1 flushed, first-boot unit held for the reset"; sleep 600; fi'
            """;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    @Test
    void gatewayTwoLoadBalancersAndAControlPlaneBehindThemOnTheRaspiosStandInSurviveAResetAndAPowerCutHoldOneVipAndServeTheApiserver_kubeadmStandIn()
            throws Exception {
        long started = System.nanoTime();
        for (String tool : List.of("qemu-system-x86_64", "socat", "mcopy", "debugfs", "apt-ftparchive", "gpg",
                "dpkg-deb", "openssl", "ssh-keygen", "ssh-keyscan", "ssh")) {
            ExternalTool.require(tool);
        }
        Path rootfs = DebianRootfs.cached(StandInBases.RASPIOS_TRIXIE);
        log(started, "stand-in root file system ready: " + rootfs);

        List<String> packages = new ArrayList<>(Rehearsal.rolePackages());
        packages.addAll(KubernetesStandInRepo.DEBIAN_DEPENDENCIES);
        PackageMirror mirror = PackageMirror.build(Files.createDirectories(tmp.resolve("mirror")), "trixie", rootfs,
                packages);
        log(started, "mirror of " + packages + " and their dependencies: " + mirror.debs().size() + " .debs");
        KubernetesStandInRepo pkgs = KubernetesStandInRepo.build(Files.createDirectories(tmp.resolve("pkgs")), "1.31");
        Map<String, String> baseFiles = new LinkedHashMap<>(Rehearsal.trustPkgsK8sIo(rootfs, pkgs, PKGS_ADDRESS));
        baseFiles.put(LB1_HOLD_PATH, LB1_HOLD);
        StandInImage.Image base = Rehearsal.raspiosBase(Files.createDirectories(tmp.resolve("base")), rootfs,
                mirror.publicKey(), baseFiles);

        // The operator's key, to log in with ssh under StrictHostKeyChecking.
        Path operatorKey = OperatorSsh.newKey(tmp);
        Path plan = Files.writeString(tmp.resolve("rehearsal.yaml"), PLAN.formatted(OperatorSsh.publicLine(operatorKey)));
        Path out = tmp.resolve("out");
        Bake.builder(plan).output(out).clock(CLOCK).baseImage(base.path()).build().run();
        log(started, "baked");

        Map<String, String> append = new LinkedHashMap<>();
        for (String node : MACS.keySet()) {
            // As a Pi's kernel takes them: the memory cgroup only where cmdline.txt enables it (the bake's
            // node images do, so no node here reboots for it).
            append.put(node, Rehearsal.piKernelArguments(Rehearsal.bootFiles(out.resolve(node + ".img"),
                    base.bootOffset(), tmp.resolve("baked-" + node))));
        }
        log(started, "kernel arguments (from the baked cmdline.txt): " + append.get("gw"));
        Path kernel = DebianRootfs.kernel(rootfs);
        Path initrd = DebianRootfs.initrd(rootfs);
        int mirrorPort = mirror.serve();
        // The operator's ssh from the home LAN: the gateway's port 22 (its uplink's DHCP address) from a
        // port on this machine's 127.0.0.1; the load balancers through the gateway.
        int gwSshPort = QemuVm.lan().port();
        int pkgsPort = pkgs.serve();

        try (mirror; pkgs; VirtualSwitch lan = new VirtualSwitch(); VirtualSwitch home = new VirtualSwitch();
             LanTimeServer timeServer = new LanTimeServer(home, HOME_TIME_SERVER, "52:54:00:77:01:23")) {
            Map<String, List<QemuVm.Nic>> nics = new LinkedHashMap<>();
            // The home LAN: QEMU's user network (DHCP, the mirror forwarded to the test) and the time server.
            nics.put("gw", List.of(QemuVm.Nic.switchPort(lan, MACS.get("gw")),
                    QemuVm.Nic.usbUplink("net=10.0.2.0/24"
                            + Rehearsal.guestForward(StandInBases.MIRROR_ADDRESS, 80, mirrorPort)
                            + Rehearsal.guestForward(PKGS_ADDRESS, 443, pkgsPort)
                            + OperatorSsh.hostForward(gwSshPort, GW_UPLINK_ADDRESS), GW_UPLINK_MAC, home)));
            nics.put("lb1", List.of(QemuVm.Nic.switchPort(lan, MACS.get("lb1"))));
            nics.put("lb2", List.of(QemuVm.Nic.switchPort(lan, MACS.get("lb2"))));
            nics.put("cp1", List.of(QemuVm.Nic.switchPort(lan, MACS.get("cp1"))));

            // Shuffled, with delays, never the gateway first: the others must wait for it and retry.
            long seed = Rehearsal.seed();
            List<String> order = Rehearsal.powerOnOrder(nics.keySet(), seed);
            log(started, "power-on order " + order + " (seed " + seed + ", -Drehearsal.seed= repeats it)");

            Map<String, QemuVm> vms = new LinkedHashMap<>();
            List<QemuVm> all = new ArrayList<>();
            try {
                for (String node : order) {
                    // kubeadm's preflight wants two CPUs and 1700 MB on a control plane (a Pi has four).
                    boolean controlPlane = node.startsWith("cp");
                    QemuVm vm = QemuVm.start(new QemuVm.Spec(node, tmp, kernel, initrd, append.get(node),
                            out.resolve(node + ".img"), nics.get(node), true, controlPlane ? 2048 : 1024),
                            controlPlane ? List.of("-smp", "2") : List.of());
                    vms.put(node, vm);
                    all.add(vm);
                    log(started, "powered on " + node);
                    Thread.sleep(Rehearsal.powerOnDelayMillis(seed, node));
                }

                // The faults, whichever comes first: lb1's reset button while its first-boot unit is held
                // (cloud-init's files written, its record of them on the card, the runner's not); lb2 loses
                // power while it unpacks packages, and is powered on again.
                Pattern held = Pattern.compile("rehearsal-hold: lb1 flushed");
                Pattern unpacking = Pattern.compile("Unpacking (keepalived|haproxy|curl|nftables|dnsmasq)");
                boolean reset = false;
                int resetAt = 0;
                boolean cut = false;
                long deadline = System.nanoTime() + FIRST_BOOT.toNanos();
                while (!reset || !cut) {
                    if (!reset && held.matcher(vms.get("lb1").console()).find()) {
                        resetAt = vms.get("lb1").console().length();
                        vms.get("lb1").reset();
                        reset = true;
                        log(started, "lb1 reset while its first-boot unit was held");
                    }
                    if (!cut && unpacking.matcher(vms.get("lb2").console()).find()) {
                        vms.get("lb2").kill();
                        log(started, "lb2 powered off hard while unpacking packages");
                        Thread.sleep(5_000);
                        QemuVm again = QemuVm.start(new QemuVm.Spec("lb2-again", tmp, kernel, initrd, append.get("lb2"),
                                out.resolve("lb2.img"), nics.get("lb2"), true, 1024));
                        vms.put("lb2", again);
                        all.add(again);
                        cut = true;
                        log(started, "lb2 powered on again");
                    }
                    assertAllRunningAndNoneStuck(vms);
                    assertThat(System.nanoTime()).as("faults not injected within %s: lb1's first-boot unit never held"
                            + " (%s) or lb2 never unpacked a role package (%s); consoles in %s", FIRST_BOOT, !reset,
                            !cut, tmp).isLessThan(deadline);
                    Thread.sleep(500);
                }
                QemuVm lb1 = vms.get("lb1");

                List<String> waiting = new ArrayList<>(vms.keySet());
                while (!waiting.isEmpty()) {
                    for (String node : List.copyOf(waiting)) {
                        if (vms.get(node).console().contains("piimage-firstboot[" + node + "]: all phases done")) {
                            waiting.remove(node);
                            log(started, node + " done");
                        }
                    }
                    assertAllRunningAndNoneStuck(vms);
                    assertThat(System.nanoTime()).as("%s not done within %s; consoles in %s", waiting, FIRST_BOOT, tmp)
                            .isLessThan(deadline);
                    Thread.sleep(1_000);
                }
                // After the reset, the first-boot unit ran by itself, with no ordering cycle; cloud-init wrote
                // the node's files again, since nothing had recorded them as on the card.
                assertThat(lb1.console()).doesNotContain("to break ordering cycle");
                assertThat(lb1.console().substring(0, resetAt)).as("the reset came before the runner recorded the files")
                        .doesNotContain("cloud-init's files are on the card");
                assertThat(lb1.console().substring(resetAt))
                        .contains("piimage: no record that this node's files reached the card; cloud-init writes them again");
                // Every node had its clock from the home LAN's time server before apt (not the bounded
                // wait's fallback), the load balancers through the gateway.
                for (String node : vms.keySet()) {
                    assertThat(Rehearsal.consoles(all, name -> name.equals(node) || name.equals(node + "-again"))).as("%s: NTP before apt", node)
                            .contains("the clock to be synchronised (NTP) before apt: ok");
                }
                assertThat(timeServer.answered()).as("NTP answers").isNotEmpty();

                Rehearsal.assertUnitsHealthy(vms);

                // One VIP holder.
                String s1 = Rehearsal.lastVrrpState(vms.get("lb1").console());
                String s2 = Rehearsal.lastVrrpState(vms.get("lb2").console());
                assertThat(List.of(s1, s2)).as("VRRP states lb1=%s lb2=%s", s1, s2)
                        .containsExactlyInAnyOrder("MASTER", "BACKUP");

                // The control plane behind them: initialised, then reached the cluster through the VIP
                // (its admin.conf names the endpoint, and it runs no keepalived): HAProxy on a load
                // balancer logged cp1's own connections, forwarded to cp1's apiserver and ended normally.
                // On both, HAProxy's /healthz check has cp1's apiserver UP (the test hook's report).
                String cp1 = vms.get("cp1").console();
                assertThat(cp1).contains("pkgs.k8s.io signing key installed",
                        "kubelet-stand-in: containerd: SystemdCgroup = true, CNI plugins in /opt/cni/bin",
                        "Your Kubernetes control-plane has initialized successfully!", "cni: flannel applied");
                // Right after init HAProxy accepts connections but has no apiserver in rotation yet (two
                // good /healthz checks first): the token's deletion waits for the endpoint's /readyz.
                assertThat(cp1).doesNotContain("cannot delete the bootstrap token");
                assertThat(Rehearsal.lastVrrpState(cp1)).as("cp1 runs no VRRP").isNull();
                assertThat(Rehearsal.consoles(all, name -> name.startsWith("lb"))).as("HAProxy's log of cp1's requests to the endpoint")
                        .containsPattern("haproxy\\[\\d+\\]: 10\\.77\\.0\\.251:\\d+ \\[[^\\]]+\\] kube-apiserver "
                                + "kube-apiserver/cp1 [-\\d/]+ \\d+ -- ");
                for (String lb : List.of("lb1", "lb2")) {
                    assertThat(Rehearsal.report(vms.get(lb), Duration.ofMinutes(5))).as("%s: HAProxy's check of cp1", lb)
                            .contains("rehearsal-haproxy-server: kube-apiserver/cp1 UP");
                }

                // The load balancers' packages came through the gateway from the mirror.
                assertThat(mirror.requests()).anyMatch(r -> r.matches("GET /debian/pool/main/keepalived_.* 200"));
                assertThat(pkgs.requests()).anyMatch(r -> r.matches("GET /core:/stable:/v1.31/deb/amd64/kubeadm_.* 200"));

                // sshd (which the card enabled: pi-gen leaves it disabled) serves the host keys the bake
                // made, and the baked known_hosts lets the operator in with no question asked: the
                // gateway from the home LAN, a load balancer through the gateway.
                Path knownHosts = out.resolve("known_hosts");
                OperatorSsh operator = new OperatorSsh(tmp, operatorKey, knownHosts, "pi");
                operator.assertHostKeysAreTheBakedOnes("gw", gwSshPort);
                assertThat(operator.run("gw", gwSshPort, null, "hostname")).isEqualTo("gw");
                assertThat(operator.run("lb1", gwSshPort, "10.77.0.241", "hostname")).isEqualTo("lb1");
                // The operator on cp1: kubectl with kubeadm's admin.conf, whose server is the endpoint.
                String kubectl = "sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name";
                assertThat(operator.run("cp1", gwSshPort, "10.77.0.251", kubectl)).isEqualTo("node/cp1");

                // Pull the plug on the VIP holder: the other takes the VIP over.
                QemuVm holder = "MASTER".equals(s1) ? vms.get("lb1") : vms.get("lb2");
                QemuVm standby = holder == vms.get("lb1") ? vms.get("lb2") : vms.get("lb1");
                int before = standby.console().length();
                holder.kill();
                log(started, holder.name() + " (the VIP holder) powered off hard");
                standby.awaitConsole(Pattern.compile("Entering MASTER STATE"), before, Duration.ofMinutes(1));
                log(started, standby.name() + " took the VIP over");
                // ...and the endpoint answers through it: the same kubectl, now through the other HAProxy.
                assertThat(operator.run("cp1", gwSshPort, "10.77.0.251", kubectl)).isEqualTo("node/cp1");

                for (QemuVm vm : vms.values()) {
                    if (vm.running()) {
                        vm.powerOff(Duration.ofMinutes(5));
                    }
                }
            } finally {
                for (QemuVm vm : all) {
                    vm.close();
                }
            }
        }
        // What cp1's apiserver stand-in recorded (read back from the powered-off card): the bootstrap token
        // deleted and the pod network applied, both sent to the endpoint, that is through the VIP.
        String state = CardSecretScan.debugfs(out.resolve("cp1.img") + "?offset=" + base.rootOffset(),
                "cat /var/lib/apiserver-stand-in/state.json");
        assertThat(state).contains("\"tokens\": []", "DaemonSet/kube-flannel-ds");
        for (String node : List.of("gw", "lb1", "lb2", "cp1")) {
            Map<String, byte[]> boot = Rehearsal.bootFiles(out.resolve(node + ".img"), base.bootOffset(),
                    tmp.resolve("after-" + node));
            String status = new String(boot.get("piimage-status.txt"), StandardCharsets.UTF_8);
            assertThat(status).as(node).contains("node=" + node, "state=done");
            String userData = new String(boot.get("user-data"), StandardCharsets.UTF_8);
            assertThat(userData).as(node).startsWith("#cloud-config").contains("hostname: " + node);
            // What cloud-init and the first boot left on the root partition, read with debugfs.
            String root = out.resolve(node + ".img") + "?offset=" + base.rootOffset();
            assertThat(CardSecretScan.debugfs(root, "cat /etc/hostname").strip()).as(node).isEqualTo(node);
            assertThat(Rehearsal.mode(root, "/usr/local/sbin/piimage-firstboot")).as(node).isEqualTo("0755");
            if (node.startsWith("lb")) {
                assertThat(Rehearsal.mode(root, "/etc/keepalived/keepalived.conf")).as(node).isEqualTo("0600");
                assertThat(Rehearsal.mode(root, "/etc/haproxy/haproxy.cfg")).as(node).isEqualTo("0644");
                assertThat(Rehearsal.mode(root, "/etc/keepalived/piimage-check-endpoint")).as(node).isEqualTo("0755");
                // The finish phase took the VRRP password off the boot partition.
                assertThat(Files.readString(out.resolve(node).resolve("user-data"))).contains("auth_pass");
                assertThat(userData).as(node).doesNotContain("auth_pass")
                        .doesNotContain("  - path: /etc/keepalived/keepalived.conf\n");
            }
        }
        // What someone holding a used card could read back: every byte of its boot partition, and of its
        // root partition outside the files where a secret belongs (cloud-init's freed copies would show).
        Map<String, List<String>> secrets = CardSecretScan.secretsOf(Bake.defaultSecretsDir(plan), List.of("gw", "lb1", "lb2"));
        for (String node : List.of("gw", "lb1", "lb2")) {
            Path img = out.resolve(node + ".img");
            assertThat(CardSecretScan.leftOvers(img, base.bootOffset(), base.rootOffset() - base.bootOffset(),
                    base.rootOffset(), Files.size(img) - base.rootOffset(), secrets))
                    .as("secrets left on %s after its first boot", node).isEmpty();
        }
        // The control plane's root file system holds the cluster's keys by design: its boot partition may not.
        Map<String, List<String>> keys = Rehearsal.privateKeysAndTokens(Bake.defaultSecretsDir(plan));
        Path cp1Card = out.resolve("cp1.img");
        assertThat(CardSecretScan.leftOvers(cp1Card, base.bootOffset(), base.rootOffset() - base.bootOffset(),
                base.rootOffset(), 0, keys)).as("secrets left on cp1's boot partition").isEmpty();
        log(started, "rehearsal passed");
    }


    /** Every VM still running, and no console showing a line after which a node cannot finish. */
    private void assertAllRunningAndNoneStuck(Map<String, QemuVm> vms) throws IOException {
        for (Map.Entry<String, QemuVm> e : vms.entrySet()) {
            assertThat(e.getValue().running()).as("%s: QEMU exited; console in %s", e.getKey(), tmp).isTrue();
        }
        Rehearsal.assertNoneStuck(vms, FATAL, tmp);
    }

    private static void log(long started, String what) {
        System.out.printf("rehearsal +%ds: %s%n", (System.nanoTime() - started) / 1_000_000_000L, what);
    }
}
