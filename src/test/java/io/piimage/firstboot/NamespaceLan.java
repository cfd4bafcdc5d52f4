package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A LAN of network namespaces (src/test/standins/lan.sh) with a load-balancer stand-in holding the
 * VIP, where baked nodes run their rendered first-boot script under the unit stand-in (systemd's
 * Restart=on-failure). Every namespace and every process in it is removed on close.
 */
final class NamespaceLan implements AutoCloseable {

    static final Path STANDINS = Project.root().resolve("src/test/standins");

    final String prefix = "pa-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    final Map<String, String> hosts = new LinkedHashMap<>();
    final Path dir;
    final Path shared;
    final Path bin;
    final Path go;
    private final List<Process> processes = new ArrayList<>();

    NamespaceLan(Path dir, Map<String, String> hosts) {
        this.dir = dir;
        this.hosts.putAll(hosts);
        this.shared = dir.resolve("shared");
        this.go = dir.resolve("go");
        this.bin = BakedNodes.standIns(dir);
        try {
            Files.createDirectories(shared);
            Files.writeString(shared.resolve("nodes"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(List.of(STANDINS.resolve("lan.sh").toString(), "up", prefix));
        hosts.forEach((name, address) -> command.add(name + "=" + address + "/24"));
        ProcessResult up = ExternalTool.run(Duration.ofSeconds(30), command, dir);
        assertThat(up.exitCode()).as("lan.sh up: " + up.output()).isZero();
    }

    String namespace(String host) {
        return prefix + "-" + host;
    }

    /** The load-balancer stand-in on host {@code lb}: the VIP's port, forwarding to the apiservers. */
    void startLoadBalancer(String lb, int port, List<String> backends) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace(lb), "python3",
                STANDINS.resolve("lb-stand-in.py").toString(), hosts.get(lb), String.valueOf(port)));
        command.addAll(backends);
        start(command, dir.resolve("lb.log"));
    }

    /** Starts a node's unit stand-in; it runs piimage-firstboot once {@link #go()} is called. */
    void startNode(String node, Path root, int deadlineSeconds) {
        try {
            Files.deleteIfExists(root.resolve("unit-exit"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        start(List.of("ip", "netns", "exec", namespace(node), "env",
                "PATH=" + bin + ":" + System.getenv("PATH"), "PIIMAGE_ROOT=" + root, "PA_SHARED=" + shared,
                STANDINS.resolve("unit-stand-in").toString(), go.toString(), String.valueOf(deadlineSeconds)),
                root.resolve("unit.log"));
    }

    void go() {
        try {
            Files.writeString(go, "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void start(List<String> command, Path log) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            processes.add(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Power cut: every process of the host's namespace (runner, lock keepalive, etcd, apiserver) dies. */
    void kill(String host) {
        ProcessResult killed = ExternalTool.run(Duration.ofSeconds(10), List.of("bash", "-c",
                "pids=$(ip netns pids " + namespace(host) + "); [ -z \"$pids\" ] || kill -9 $pids"), dir);
        assertThat(killed.exitCode()).as(killed.output()).isZero();
    }

    /** Runs a command inside a host's namespace. */
    ProcessResult exec(String host, Duration timeout, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(host)));
        full.addAll(command);
        return ExternalTool.run(timeout, full, dir);
    }

    @Override
    public void close() {
        List<String> command = new ArrayList<>(List.of(STANDINS.resolve("lan.sh").toString(), "down", prefix));
        command.addAll(hosts.keySet());
        ExternalTool.run(Duration.ofSeconds(60), command, dir);
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
