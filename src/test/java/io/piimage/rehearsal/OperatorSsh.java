package io.piimage.rehearsal;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator's ssh into booted cards, strict as a careful operator's: only the baked
 * {@code known_hosts}, {@code StrictHostKeyChecking=yes}, the operator's key alone. The test reaches a
 * card through a port of 127.0.0.1 that QEMU's user network forwards to the gateway's port 22; a node
 * on the cluster LAN is reached through the gateway ({@code ssh -W}), as from the home LAN.
 */
final class OperatorSsh {

    private final Path dir;
    private final Path key;
    private final Path knownHosts;
    private final String user;

    OperatorSsh(Path dir, Path key, Path knownHosts, String user) {
        this.dir = dir;
        this.key = key;
        this.knownHosts = knownHosts;
        this.user = user;
    }

    /** A new ed25519 key pair for the operator, in {@code dir}. */
    static Path newKey(Path dir) {
        Path key = dir.resolve("operator_ed25519");
        ProcessResult made = ExternalTool.run(Duration.ofSeconds(30), List.of("ssh-keygen", "-q", "-t", "ed25519",
                "-N", "", "-C", "operator@rehearsal", "-f", key.toString()), dir);
        assertThat(made.exitCode()).as(made.output()).isZero();
        return key;
    }

    /** The public half as an authorized_keys line, for the plan's {@code os.sshAuthorizedKeys}. */
    static String publicLine(Path key) throws IOException {
        return Files.readString(Path.of(key + ".pub")).strip();
    }

    /** QEMU user-network option: {@code guest}'s port 22 from {@code hostPort} on this machine's 127.0.0.1 only. */
    static String hostForward(int hostPort, String guest) {
        return ",hostfwd=tcp:127.0.0.1:" + hostPort + "-" + guest + ":22";
    }

    /** {@code ssh-keyscan} of the node behind {@code port} gives exactly its lines of the baked known_hosts. */
    void assertHostKeysAreTheBakedOnes(String node, int port) throws IOException, InterruptedException {
        List<String> baked = Files.readAllLines(knownHosts).stream().filter(l -> l.startsWith(node + ","))
                .map(l -> l.substring(l.indexOf(' ') + 1)).sorted().toList();
        assertThat(baked).as("%s's lines in %s", node, knownHosts).isNotEmpty();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        List<String> scanned;
        ProcessResult scan;
        while (true) {
            scan = ExternalTool.run(Duration.ofSeconds(60), List.of("ssh-keyscan", "-T", "20", "-p", String.valueOf(port),
                    "-t", "ed25519,ecdsa,rsa", "127.0.0.1"), dir);
            scanned = scan.stdout().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                    .map(l -> l.substring(l.indexOf(' ') + 1)).sorted().toList();
            if (!scanned.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(5_000);
        }
        assertThat(scanned).as("ssh-keyscan of %s: %s", node, scan.output()).isEqualTo(baked);
    }

    /**
     * Runs {@code command} on {@code node} and returns its output: directly on the node behind {@code port}
     * when {@code lanAddress} is null, else on the node at {@code lanAddress}, through the one behind
     * {@code port} (the gateway), each hop checked against the baked known_hosts.
     */
    String run(String node, int port, String lanAddress, String command) {
        List<String> ssh = new ArrayList<>(strict());
        if (lanAddress == null) {
            ssh.addAll(List.of("-o", "HostKeyAlias=" + node, "-p", String.valueOf(port), user + "@127.0.0.1"));
        } else {
            List<String> jump = new ArrayList<>(strict());
            jump.addAll(List.of("-o", "HostKeyAlias=gw", "-p", String.valueOf(port), "-W", lanAddress + ":22",
                    user + "@127.0.0.1"));
            ssh.addAll(List.of("-o", "ProxyCommand=" + String.join(" ", jump), "-o", "HostKeyAlias=" + node,
                    user + "@" + lanAddress));
        }
        ssh.add(command);
        ProcessResult r = ExternalTool.run(Duration.ofMinutes(2), ssh, dir);
        assertThat(r.exitCode()).as("ssh to %s: %s", node, r.output()).isZero();
        return r.stdout().strip();
    }

    private List<String> strict() {
        return List.of("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=60", "-i", key.toString());
    }
}
