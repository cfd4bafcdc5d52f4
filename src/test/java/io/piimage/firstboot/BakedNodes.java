package io.piimage.firstboot;

import io.piimage.pipeline.Bake;
import io.piimage.testing.Project;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * A plan baked by the real pipeline, and each node's filesystem laid out from its user-data the way
 * cloud-init's write_files would (paths, contents, permissions) under a scratch root, so that the
 * rendered first-boot scripts run as they would on the Pi (PIIMAGE_ROOT is that root).
 */
final class BakedNodes {

    static final Clock CLOCK = Clock.systemUTC();

    /** An SSH key the plan validator accepts (the examples' placeholder). */
    static final String SSH_KEY =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz replace-with-yours@example";

    final Path dir;
    final Path out;
    final Bake.Result result;

    private BakedNodes(Path dir, Bake.Result result) {
        this.dir = dir;
        this.out = result.output();
        this.result = result;
    }

    /** Bakes {@code planYaml} (written to dir/NAME.yaml) into dir/out. */
    static BakedNodes bake(Path dir, String name, String planYaml) {
        return bake(dir, name, planYaml, CLOCK);
    }

    /** The same at another time (a later bake of a grown plan, with the same secrets). */
    static BakedNodes bake(Path dir, String name, String planYaml, Clock clock) {
        return bake(dir, name, planYaml, clock, null);
    }

    /** The same with {@code bake --restore-from restoreFrom} (null: none). */
    static BakedNodes bake(Path dir, String name, String planYaml, Clock clock, Path restoreFrom) {
        try {
            Path plan = dir.resolve(name + ".yaml");
            Files.writeString(plan, planYaml);
            return new BakedNodes(dir, Bake.builder(plan).output(dir.resolve("out")).clock(clock).restoreFrom(restoreFrom).build().run());
        } catch (Exception e) {
            throw new IllegalStateException("bake failed: " + e.getMessage(), e);
        }
    }

    Path userData(String node) {
        return out.resolve(node).resolve("user-data");
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> cloudConfig(String node) {
        try {
            return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(userData(node)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The node's write_files: path to content. */
    @SuppressWarnings("unchecked")
    Map<String, byte[]> files(String node) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (Map<String, Object> entry : (List<Map<String, Object>>) cloudConfig(node).get("write_files")) {
            String content = (String) entry.get("content");
            byte[] bytes = "b64".equals(entry.get("encoding"))
                    ? Base64.getDecoder().decode(content)
                    : content.getBytes(StandardCharsets.UTF_8);
            files.put((String) entry.get("path"), bytes);
        }
        return files;
    }

    String file(String node, String path) {
        byte[] bytes = files(node).get(path);
        if (bytes == null) {
            throw new IllegalArgumentException(node + " has no " + path);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The packages phase 15-packages installs (/etc/piimage/packages; cloud-init's package step is not used). */
    List<String> packages(String node) {
        return file(node, "/etc/piimage/packages").lines().map(l -> l.replaceFirst("#.*", "").strip())
                .filter(l -> !l.isEmpty()).toList();
    }

    /**
     * Lays the node out under {@code root}: every write_files entry with its permissions, the seed
     * files on the boot partition and in cloud-init's instance cache, and the few kernel files the
     * scripts read (cgroup controllers with memory, ip_forward 1, a boot id, 4 GB of memory). No
     * /proc/device-tree/model: the board is the plan's model unless a test writes one.
     */
    @SuppressWarnings("unchecked")
    Path layOut(String node, Path root) {
        try {
            Map<String, Object> config = cloudConfig(node);
            for (Map<String, Object> entry : (List<Map<String, Object>>) config.get("write_files")) {
                Path target = root.resolve(((String) entry.get("path")).substring(1));
                Files.createDirectories(target.getParent());
                String content = (String) entry.get("content");
                byte[] bytes = "b64".equals(entry.get("encoding"))
                        ? Base64.getDecoder().decode(content)
                        : content.getBytes(StandardCharsets.UTF_8);
                Files.write(target, bytes);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(rwx((String) entry.get("permissions"))));
            }
            Path boot = root.resolve("boot/firmware");
            Files.createDirectories(boot);
            for (String seed : List.of("user-data", "meta-data", "network-config")) {
                Files.copy(out.resolve(node).resolve(seed), boot.resolve(seed));
            }
            if (Files.exists(out.resolve(node).resolve("piimage-restore.db"))) {
                Files.copy(out.resolve(node).resolve("piimage-restore.db"), boot.resolve("piimage-restore.db"));
            }
            Files.writeString(boot.resolve("cmdline.txt"),
                    "console=serial0,115200 console=tty1 root=PARTUUID=12345678-02 rootfstype=ext4 fsck.repair=yes rootwait\n");
            Files.writeString(boot.resolve("config.txt"), "[all]\narm_64bit=1\n");
            Path instance = root.resolve("var/lib/cloud/instances/" + node + "-i");
            Files.createDirectories(instance.resolve("scripts"));
            Files.copy(userData(node), instance.resolve("user-data.txt"));
            Files.copy(userData(node), instance.resolve("user-data.txt.i"));
            Files.writeString(instance.resolve("cloud-config.txt"), "#cloud-config\n# merged copy\n");
            Files.writeString(instance.resolve("obj.pkl"), "pickled datasource with the raw user-data\n");
            Files.writeString(instance.resolve("scripts/runcmd"), "#!/bin/sh\n");
            Files.createSymbolicLink(root.resolve("var/lib/cloud/instance"), instance);
            // cloud-init's final stage has finished on this boot (90-finish waits for it).
            write(root, "run/cloud-init/result.json", "{\"v1\": {\"datasource\": \"DataSourceNoCloud\", \"errors\": []}}\n");
            write(root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
            write(root, "proc/sys/net/ipv4/ip_forward", "1\n");
            // The kernel's network interfaces: the ones the plan names for this node (phase 05-interfaces).
            for (String line : file(node, "/etc/piimage/node.env").lines().toList()) {
                if (line.matches("PIIMAGE_(INTERFACE|UPLINK)=\\S+")) {
                    write(root, "sys/class/net/" + line.substring(line.indexOf('=') + 1) + "/operstate", "up\n");
                }
            }
            write(root, "proc/sys/kernel/random/boot_id", "boot-1\n");
            // A 4 GB Pi (MemTotal as such a Pi reports it); tests of the memory check write their own.
            write(root, "proc/meminfo", "MemTotal:        3881472 kB\nMemFree:         3202136 kB\n");
            write(root, "etc/fstab", "LABEL=writable / ext4 defaults 0 1\n");
            write(root, "stand-in/containerd-config-default.toml", CONTAINERD_1X);
            // The repository key 20-install would fetch from pkgs.k8s.io (no internet in tests).
            write(root, "etc/apt/keyrings/kubernetes-apt-keyring.asc",
                    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n(stand-in)\n-----END PGP PUBLIC KEY BLOCK-----\n");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path root, String path, String text) throws IOException {
        Path target = root.resolve(path);
        Files.createDirectories(target.getParent());
        Files.writeString(target, text);
    }

    private static String rwx(String octal) {
        StringBuilder out = new StringBuilder();
        for (char c : octal.substring(octal.length() - 3).toCharArray()) {
            int digit = c - '0';
            out.append((digit & 4) != 0 ? 'r' : '-').append((digit & 2) != 0 ? 'w' : '-').append((digit & 1) != 0 ? 'x' : '-');
        }
        return out.toString();
    }

    /** The rendered scripts of a node: files that start with #! and the sourced phase libraries. */
    List<String> scripts(String node) {
        List<String> scripts = new ArrayList<>();
        files(node).forEach((path, bytes) -> {
            String text = new String(bytes, StandardCharsets.UTF_8);
            // Shell only: other interpreters (e.g. the gateway's "#!/usr/sbin/nft -f") are checked by their own tools.
            String firstLine = text.lines().findFirst().orElse("");
            if (firstLine.matches("#!\\s*(/usr)?/bin/(env )?(ba)?sh\\b.*") || text.startsWith("# shellcheck shell=bash")) {
                scripts.add(path);
            }
        });
        return scripts;
    }

    /** Excerpt of `containerd config default` of containerd 1.7 (config version 2). */
    static final String CONTAINERD_1X = """
            disabled_plugins = []
            root = "/var/lib/containerd"
            state = "/run/containerd"
            version = 2

            [plugins]
              [plugins."io.containerd.grpc.v1.cri"]
                sandbox_image = "registry.k8s.io/pause:3.8"
                [plugins."io.containerd.grpc.v1.cri".containerd]
                  default_runtime_name = "runc"
                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                      runtime_type = "io.containerd.runc.v2"
                      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                        BinaryName = ""
                        SystemdCgroup = false
                [plugins."io.containerd.grpc.v1.cri".registry]
                  config_path = ""
            """;

    /** Excerpt of `containerd config default` of containerd 2.x (config version 3). */
    static final String CONTAINERD_2X = """
            version = 3
            root = '/var/lib/containerd'
            state = '/run/containerd'

            [plugins]
              [plugins.'io.containerd.cri.v1.images']
                snapshotter = 'overlayfs'
                [plugins.'io.containerd.cri.v1.images'.registry]
                  config_path = ''
              [plugins.'io.containerd.cri.v1.runtime']
                [plugins.'io.containerd.cri.v1.runtime'.containerd]
                  default_runtime_name = 'runc'
                  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
                    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
                      runtime_type = 'io.containerd.runc.v2'
                      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
                        BinaryName = ''
                        SystemdCgroup = false
            """;

    /** A bin directory with the stand-ins first on PATH under the real tools' names. */
    static Path standIns(Path dir) {
        try {
            Path bin = Files.createDirectories(dir.resolve("stand-in-bin"));
            Path standins = Project.root().resolve("src/test/standins");
            Files.createSymbolicLink(bin.resolve("kubeadm"), standins.resolve("kubeadm-stand-in"));
            Files.createSymbolicLink(bin.resolve("kubectl"), standins.resolve("kubectl-stand-in"));
            Files.createSymbolicLink(bin.resolve("ctr"), standins.resolve("ctr-stand-in"));
            for (String tool : List.of("apt-get", "apt-cache", "apt-mark", "systemctl", "timedatectl", "modprobe", "sysctl",
                    "swapoff", "swapon", "containerd", "crictl", "udevadm", "dpkg-query", "dpkg")) {
                Files.createSymbolicLink(bin.resolve(tool), standins.resolve("recording-stand-in"));
            }
            return bin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
