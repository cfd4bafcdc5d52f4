package io.piimage.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * A LAN of network namespaces for one test: a bridge namespace and hosts plugged into it by veth
 * pairs (recipes.md). Everything it creates is removed by {@link #close()}, even after a failure.
 * Its run directory is root-owned and not world-writable, as keepalived's script security requires.
 */
final class TestLan implements AutoCloseable {

    final Path ip;
    final Path logs;
    final Path runDir;
    final String id = HexFormat.of().formatHex(new SecureRandom().generateSeed(2));
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final List<Path> pidFiles = new ArrayList<>();

    TestLan(Path logs) throws IOException {
        this.ip = ExternalTool.require("ip");
        ExternalTool.requireRoot();
        this.logs = logs;
        this.runDir = Files.createDirectories(Path.of("/run/piimage-test-" + id));
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        namespace("sw");
        sh(ip.toString(), "-n", ns("sw"), "link", "add", "br0", "type", "bridge");
        sh(ip.toString(), "-n", ns("sw"), "link", "set", "br0", "up");
    }

    String ns(String name) {
        return "pe" + id + "-" + name;
    }

    void namespace(String name) {
        sh(ip.toString(), "netns", "add", ns(name));
        namespaces.add(ns(name));
    }

    void sh(String... command) {
        ProcessResult result = ExternalTool.run(Duration.ofSeconds(20), List.of(command), logs);
        assertThat(result.exitCode()).as(String.join(" ", command) + ": " + result.output()).isZero();
    }

    ProcessResult in(String host, Duration timeout, String... command) {
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", ns(host)));
        full.addAll(List.of(command));
        return ExternalTool.run(timeout, full, logs);
    }

    /** A host whose {@code iface} is plugged into the bridge, with {@code address}/24. */
    void host(String name, String address, String iface) {
        namespace(name);
        plug(name, iface, address);
        sh(ip.toString(), "-n", ns(name), "link", "set", "lo", "up");
    }

    void host(String name, String address) {
        host(name, address, "eth0");
    }

    /** Another interface of an existing host, on the same bridge. */
    void plug(String name, String iface, String address) {
        String peer = "v" + id + Integer.toHexString((name + iface).hashCode() & 0xfffff);
        sh(ip.toString(), "link", "add", peer, "type", "veth", "peer", "name", iface, "netns", ns(name));
        sh(ip.toString(), "link", "set", peer, "netns", ns("sw"));
        sh(ip.toString(), "-n", ns("sw"), "link", "set", peer, "master", "br0", "up");
        sh(ip.toString(), "-n", ns(name), "addr", "add", address + "/24", "dev", iface);
        sh(ip.toString(), "-n", ns(name), "link", "set", iface, "up");
    }

    /** A long-running process in a host, logged to the test's directory, killed by close(). */
    Process start(String host, String label, List<String> command) throws IOException {
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", ns(host)));
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(logs.resolve(host + "-" + label + ".log").toFile()).start();
        processes.add(process);
        return process;
    }

    static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Remembers a daemon's pid file so close() stops it too. */
    Path pidFile(String name) {
        Path file = runDir.resolve(name + ".pid");
        pidFiles.add(file);
        return file;
    }

    static void killPidFile(Path pidFile) throws IOException {
        if (Files.exists(pidFile)) {
            for (String pid : Files.readString(pidFile).split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    boolean holds(String host, String iface, String address) {
        ProcessResult addr = ExternalTool.run(Duration.ofSeconds(5),
                List.of(ip.toString(), "-n", ns(host), "-o", "-4", "addr", "show", "dev", iface), logs);
        return addr.stdout().contains(" " + address + "/");
    }

    /** The hosts (of {@code candidates}) holding {@code address} now. */
    List<String> holders(List<String> candidates, String address) {
        return candidates.stream().filter(h -> holds(h, "eth0", address)).toList();
    }

    /** Polls until exactly one of {@code candidates} holds the address and returns it, or fails after {@code limit}. */
    String waitForSingleHolder(List<String> candidates, String address, Duration limit) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).compareTo(limit) < 0) {
            List<String> holders = holders(candidates, address);
            if (holders.size() == 1) {
                return holders.get(0);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no single holder of " + address + " among " + candidates + " within " + limit
                + " (now: " + holders(candidates, address) + ")");
    }

    /** Polls until {@code host} holds the address; returns how long that took, or fails after {@code limit}. */
    Duration waitUntilHolds(String host, String address, Duration limit) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).compareTo(limit) < 0) {
            if (holds(host, "eth0", address)) {
                return Duration.between(start, Instant.now());
            }
            Thread.sleep(50);
        }
        throw new AssertionError(host + " did not take " + address + " within " + limit);
    }

    /** Polls until one host other than {@code old} is the single holder; returns how long that took, or fails after {@code limit}. */
    Duration waitUntilMovedFrom(String old, List<String> candidates, String address, Duration limit) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).compareTo(limit) < 0) {
            List<String> holders = holders(candidates, address);
            if (holders.size() == 1 && !holders.get(0).equals(old)) {
                return Duration.between(start, Instant.now());
            }
            Thread.sleep(50);
        }
        throw new AssertionError(address + " did not leave " + old + " within " + limit + " (now: " + holders(candidates, address) + ")");
    }

    /** Fails unless {@code host}, and only it, holds the address at every poll for {@code period}. */
    void assertHeldSteadily(String host, List<String> candidates, String address, Duration period) throws InterruptedException {
        Instant start = Instant.now();
        while (Duration.between(start, Instant.now()).compareTo(period) < 0) {
            assertThat(holders(candidates, address)).as("holders of " + address + " after "
                    + Duration.between(start, Instant.now()).toMillis() + " ms").containsExactly(host);
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws IOException {
        for (Process process : processes) {
            kill(process);
        }
        for (Path pidFile : pidFiles) {
            killPidFile(pidFile);
        }
        for (String namespace : namespaces) {
            ExternalTool.run(Duration.ofSeconds(10), List.of(ip.toString(), "netns", "del", namespace), logs);
        }
        ExternalTool.run(Duration.ofSeconds(10), List.of("rm", "-rf", runDir.toString()), logs);
    }
}
