package io.piimage.rehearsal;

import io.piimage.testing.DebianRootfs;
import io.piimage.testing.DebianRootfs.Layout;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rehearsal's stand-in bases: Debian root file systems dressed as the distributions a card is baked
 * from, with nothing preinstalled that a card installs at boot (keepalived, HAProxy, nftables, dnsmasq,
 * curl, containerd...: see overlays/*&#47;packages). Their apt sources name the rehearsal's own package
 * mirror at {@link #MIRROR_ADDRESS}, which only the home side of the gateway reaches.
 */
final class StandInBases {

    /** The package mirror's address on the home LAN (QEMU user networking forwards it to the test). */
    static final String MIRROR_ADDRESS = "10.0.2.100";
    static final String MIRROR_URL = "http://" + MIRROR_ADDRESS + "/debian";
    /** Where the mirror's signing key goes in a card's base (apt trusts every key in trusted.gpg.d). */
    static final String MIRROR_KEY_PATH = "/etc/apt/trusted.gpg.d/piimage-rehearsal-mirror.asc";

    /**
     * The test hook: once the first boot is done, print on the serial console the units in failed state
     * and what {@code systemd-analyze verify} says of our units, with cloud-init's and the boot target
     * (an ordering cycle between them is a defect a real card would hit on its next boot).
     */
    static final String REPORT_SCRIPT = """
            #!/bin/sh
            # Rehearsal test hook (not part of any real card): report the node's units on the console.
            exec >/dev/ttyS0 2>&1
            sleep 5
            echo "rehearsal-report: begin $(hostname)"
            systemctl --failed --no-legend --plain | sed 's/^/rehearsal-failed: /'
            units=$(ls /etc/systemd/system/piimage-*.service /etc/systemd/system/piimage-*.timer 2>/dev/null)
            systemd-analyze verify $units /usr/lib/systemd/system/multi-user.target \\
              /usr/lib/systemd/system/cloud-final.service >/run/rehearsal-verify 2>&1
            echo "rehearsal-verify-exit: $?"
            sed 's/^/rehearsal-verify: /' /run/rehearsal-verify
            journalctl -b --no-pager -o cat | grep -iE 'ordering cycle|to break ordering' | sed 's/^/rehearsal-cycle: /'
            echo "rehearsal-report: end"
            """;

    static final String REPORT_PATH_UNIT = """
            # Rehearsal test hook (not part of any real card): report once the first boot is done.
            [Unit]
            Description=Rehearsal report after piimage's first boot

            [Path]
            PathExists=/var/lib/piimage/done

            [Install]
            WantedBy=paths.target
            """;

    static final String REPORT_SERVICE_UNIT = """
            [Unit]
            Description=Rehearsal report after piimage's first boot

            [Service]
            Type=oneshot
            ExecStart=/usr/local/libexec/rehearsal-report
            """;

    /**
     * The test hook as the base images carry it, over the recipe's first version (kept in the recipe so
     * that its cached root file system stays valid until the recipe next changes): the service stays
     * active once it has reported (the path unit started the old one again and again, every few
     * seconds, for as long as the node ran), and {@code systemd-analyze verify} does not look for man
     * pages (the stand-ins have no man, so every unit with a man: link failed the check).
     */
    static final Map<String, String> REPORT_HOOK = Map.of(
            "/usr/local/libexec/rehearsal-report", REPORT_SCRIPT.replace("systemd-analyze verify ",
                    "systemd-analyze verify --man=no ").replace("echo \"rehearsal-report: end\"", """
                    # A control plane: the etcd members and the apiserver stand-in's state, as its etcd has them.
                    if [ -s /etc/kubernetes/pki/apiserver-etcd-client.key ] && command -v etcdctl >/dev/null; then
                      set -- --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt \\
                        --cert=/etc/kubernetes/pki/apiserver-etcd-client.crt --key=/etc/kubernetes/pki/apiserver-etcd-client.key
                      ETCDCTL_API=3 etcdctl "$@" member list 2>&1 | sed 's/^/rehearsal-etcd-member: /'
                      ETCDCTL_API=3 etcdctl "$@" get --print-value-only /registry/apiserver-stand-in/state 2>&1 \\
                        | sed 's/^/rehearsal-apiserver-state: /'
                    fi
                    # A node running HAProxy: its apiservers' states as HAProxy's checks see them, once one is
                    # UP (a load balancer may finish long before the first apiserver starts; at most 10 min).
                    if [ -S /run/haproxy/admin.sock ]; then
                      python3 - <<'PY'
                    import socket, time
                    def servers():
                        s = socket.socket(socket.AF_UNIX)
                        s.settimeout(5)
                        s.connect("/run/haproxy/admin.sock")
                        s.sendall(b"show stat\\n")
                        data = b""
                        while chunk := s.recv(65536):
                            data += chunk
                        s.close()
                        rows = [line.split(",") for line in data.decode().splitlines() if line and line[0] != "#"]
                        return [r[0] + "/" + r[1] + " " + r[17] for r in rows
                                if r[0] == "kube-apiserver" and r[1] not in ("FRONTEND", "BACKEND")]
                    deadline = time.time() + 600
                    while True:
                        try:
                            states = servers()
                        except OSError as e:
                            states = ["(admin socket: %s)" % e]
                        if any(s.split(" ")[-1] == "UP" for s in states) or time.time() > deadline:
                            break
                        time.sleep(5)
                    for state in states:
                        print("rehearsal-haproxy-server: " + state)
                    PY
                    fi
                    echo "rehearsal-report: end\""""),
            "/etc/systemd/system/rehearsal-report.service", """
                    [Unit]
                    Description=Rehearsal report after piimage's first boot

                    [Service]
                    Type=oneshot
                    RemainAfterExit=yes
                    ExecStart=/bin/sh /usr/local/libexec/rehearsal-report
                    """);

    /**
     * The Raspberry Pi OS stand-in: Debian trixie, which Pi OS trixie is built on (cloud-init 25.1,
     * netplan rendering to NetworkManager, systemd 257 with its stock .link files, udev), laid out as
     * pi-gen lays out Pi OS Lite: NoCloud seeded from /boot/firmware by pi-gen's 99_raspberry-pi.cfg,
     * netplan handing every device to NetworkManager (pi-gen's 00-network-manager-all.yaml), interface
     * names kept ethN by masking 99-default.link and 73-usb-net-by-mac.link (what raspi-config's
     * net-names setting checks), a {@code pi} user, sshd installed but disabled (pi-gen's ENABLE_SSH=0).
     * Differences from a real Pi OS image: x86-64 and Debian's own kernel (QEMU loads it from outside, no
     * Pi firmware reads config.txt or cmdline.txt), no raspberrypi-sys-mods (no first-boot resize, no
     * userconfig wizard, no regenerated SSH host keys: debootstrap's are shared by every card), no
     * rpi-swap, and the rehearsal's test hook unit.
     */
    static final DebianRootfs.Recipe RASPIOS_TRIXIE = new DebianRootfs.Recipe("raspios-trixie-standin", "trixie",
            Layout.RASPIOS,
            // e2fsprogs and dosfstools as on Pi OS: fsck of both partitions at boot (fstab), and cloud-init's
            // resizefs, whose failure without resize2fs failed cloud-init's network stage on every card.
            // perl as on Pi OS Lite (pi-gen's stage 2 installs build-essential, whose dpkg-dev needs it):
            // keepalived pulls it in, and a card with a stock image does not unpack it at boot.
            List.of("linux-image-amd64", "cloud-init", "systemd-sysv", "systemd-timesyncd", "udev", "dbus", "kmod",
                    "iproute2", "procps", "netplan.io", "network-manager", "openssh-server", "sudo",
                    "ca-certificates", "e2fsprogs", "dosfstools", "perl"),
            raspiosFiles(),
            List.of("useradd -m -s /bin/bash -G adm,dialout,cdrom,audio,users,sudo,video,plugdev pi && passwd -l pi",
                    "systemctl disable ssh.service",
                    "ln -sf /dev/null /etc/systemd/network/99-default.link",
                    "ln -sf /dev/null /etc/systemd/network/73-usb-net-by-mac.link",
                    // The initramfs's udev names the NICs first: it must see the masks too.
                    "update-initramfs -u -k all",
                    "chmod 600 /usr/lib/netplan/00-network-manager-all.yaml",
                    "rm -f /etc/apt/sources.list.d/*",
                    "chmod 755 /usr/local/libexec/rehearsal-report",
                    "systemctl enable rehearsal-report.path"));

    /**
     * The Ubuntu stand-in: Debian trixie's packages (Ubuntu 24.04's are not in Debian's archive) in the
     * layout of Ubuntu Server 24.04's preinstalled raspi image: FAT {@code system-boot} and ext4
     * {@code writable} named by label, NoCloud reading the {@code system-boot} label (99-fake_cloud.cfg),
     * netplan's default renderer systemd-networkd with systemd-resolved (its stub listens on
     * 127.0.0.53:53, beside the gateway's dnsmasq), systemd's stock .link files (so a USB Ethernet adapter
     * is {@code enx<MAC>}), sshd enabled, the {@code ubuntu} user left to cloud-init. One addition: a Pi's
     * on-board NIC is eth0 on Ubuntu, but QEMU's virtio NIC would get a PCI path name (enp0sN), so a
     * .link file of the stand-in (the test's, not a card's) names the virtio NIC eth0; USB adapters are
     * left to systemd's own naming. Differences from Ubuntu: Debian's packages and versions (cloud-init
     * 25.1 instead of 24.x, systemd 257 instead of 255, containerd 1.7.24), x86-64 and Debian's kernel
     * given on QEMU's command line, no snapd, no unattended-upgrades, no ufw.
     */
    static final DebianRootfs.Recipe UBUNTU_STANDIN = new DebianRootfs.Recipe("ubuntu-noble-standin", "trixie",
            Layout.UBUNTU_RASPI,
            // perl as on Ubuntu Server, where it is installed (priority standard).
            List.of("linux-image-amd64", "cloud-init", "systemd-sysv", "systemd-timesyncd", "systemd-resolved", "udev",
                    "dbus", "kmod", "iproute2", "procps", "netplan.io", "openssh-server", "sudo", "ca-certificates",
                    "e2fsprogs", "dosfstools", "perl"),
            ubuntuFiles(),
            List.of("systemctl enable systemd-networkd.service systemd-resolved.service ssh.service",
                    "ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf",
                    // The initramfs's udev names the NICs first: it must see the on-board NIC's name too.
                    "update-initramfs -u -k all",
                    "rm -f /etc/apt/sources.list.d/*",
                    "chmod 755 /usr/local/libexec/rehearsal-report",
                    "systemctl enable rehearsal-report.path"));

    private static Map<String, String> ubuntuFiles() {
        Map<String, String> files = new TreeMap<>();
        files.put("etc/cloud/cloud.cfg.d/99-fake_cloud.cfg",
                "datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    fs_label: system-boot\n");
        files.put("etc/systemd/network/10-rehearsal-onboard-nic.link", """
                # Rehearsal stand-in (not part of any card): the VM's virtio NIC plays the Pi's on-board NIC,
                # which Ubuntu calls eth0.
                [Match]
                Driver=virtio_net

                [Link]
                Name=eth0
                """);
        files.put("etc/fstab", "LABEL=writable\t/\text4\tdiscard,errors=remount-ro\t0\t1\n"
                + "LABEL=system-boot\t/boot/firmware\tvfat\tdefaults\t0\t1\n");
        files.put("etc/hostname", "ubuntu\n");
        files.put("etc/hosts", "127.0.0.1\tlocalhost\n");
        files.put("etc/apt/sources.list", "deb " + MIRROR_URL + " trixie main\n");
        files.put("usr/local/libexec/rehearsal-report", REPORT_SCRIPT);
        files.put("etc/systemd/system/rehearsal-report.path", REPORT_PATH_UNIT);
        files.put("etc/systemd/system/rehearsal-report.service", REPORT_SERVICE_UNIT);
        return files;
    }

    private static Map<String, String> raspiosFiles() {
        String boot = "PARTUUID=" + Layout.DISK_ID;
        Map<String, String> files = new TreeMap<>();
        files.put("etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg", """
                # configure cloud-init with NoCloud (as pi-gen's stage2/04-cloud-init installs it)
                datasource_list: [ NoCloud, None ]
                datasource:
                  NoCloud:
                    seedfrom: file:///boot/firmware
                ssh_deletekeys: false
                ssh_genkeytypes: []
                """);
        files.put("usr/lib/netplan/00-network-manager-all.yaml", "network:\n  version: 2\n  renderer: NetworkManager\n");
        files.put("etc/fstab", "proc\t/proc\tproc\tdefaults\t0\t0\n"
                + boot + "-01\t/boot/firmware\tvfat\tdefaults\t0\t2\n"
                + boot + "-02\t/\text4\tdefaults,noatime\t0\t1\n");
        files.put("etc/hostname", "raspberrypi\n");
        files.put("etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n");
        files.put("etc/apt/sources.list", "deb " + MIRROR_URL + " trixie main\n");
        files.put("usr/local/libexec/rehearsal-report", REPORT_SCRIPT);
        files.put("etc/systemd/system/rehearsal-report.path", REPORT_PATH_UNIT);
        files.put("etc/systemd/system/rehearsal-report.service", REPORT_SERVICE_UNIT);
        return files;
    }

    private StandInBases() {
    }
}
