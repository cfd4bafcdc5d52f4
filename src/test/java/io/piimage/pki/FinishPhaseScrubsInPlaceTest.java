package io.piimage.pki;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pipeline.Bake;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real 90-finish phase on a load balancer's baked user-data, in a scratch root (the runner's log
 * and fail are one-line stand-ins): the secrets leave the seed and cloud-init's copies, the files keep
 * their blocks (overwritten in place, as filefrag shows), and a second run changes nothing. That the
 * old bytes are gone from the raw partitions of a booted card is RaspiosStandInLoadBalancersRehearsalTest's part.
 */
class FinishPhaseScrubsInPlaceTest {

    @TempDir
    Path dir;

    @Test
    void theSeedAndCloudInitsCopiesLoseTheirSecretsInPlaceAndTheRestStaysValid_runnerStandIn() throws Exception {
        Path cloudInit = ExternalTool.require("cloud-init");
        Path filefrag = ExternalTool.require("filefrag");
        Path plan = Files.writeString(dir.resolve("keys.yaml"), HostKeysAndRenewalInBakeRealToolsTest.PLAN);
        Bake.builder(plan).output(dir.resolve("out")).clock(Clock.fixed(Instant.parse("2026-11-01T00:00:00Z"), ZoneOffset.UTC))
                .build().run();
        Path baked = dir.resolve("out/lb1/user-data");
        String password = Files.readString(dir.resolve("keys.secrets/vrrp-password")).strip();
        String privateKeyLine = Files.readAllLines(dir.resolve("keys.secrets/ssh/lb1/ssh_host_ed25519_key")).get(3);
        assertThat(Files.readString(baked)).contains(password, privateKeyLine, "ssh_keys:");

        Path root = dir.resolve("root");
        Path boot = Files.createDirectories(root.resolve("boot/firmware"));
        Path instance = Files.createDirectories(root.resolve("var/lib/cloud/instances/keys-lb1-i"));
        Files.createDirectories(instance.resolve("scripts"));
        Files.createSymbolicLink(root.resolve("var/lib/cloud/instance"), instance);
        Path seed = Files.copy(baked, boot.resolve("user-data"));
        Path copy = Files.copy(baked, instance.resolve("user-data.txt"));
        for (String derived : List.of("user-data.txt.i", "cloud-config.txt", "obj.pkl", "scripts/runcmd")) {
            Files.copy(baked, instance.resolve(derived));
        }
        ExternalTool.run(Duration.ofSeconds(60), List.of("sync"), dir);
        String seedBlocks = firstBlock(filefrag, seed);
        String copyBlocks = firstBlock(filefrag, copy);
        long inode = (long) Files.getAttribute(seed, "unix:ino");

        // After a power cut the phase can run before cloud-init's final stage, which still reads its
        // cache: it waits until cloud-init says it has finished this boot (result.json in /run).
        ProcessResult first = finish(root, "mkdir -p \"$1/run/cloud-init\"; (sleep 3; touch \"$1/run/cloud-init/result.json\") &");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.stderr()).contains("waiting for cloud-init's final stage to finish before scrubbing its copies (0s)")
                .doesNotContain("scrubbing its copies anyway");
        assertThat(first.stderr()).contains("overwrote 2 secret entries of /boot/firmware/user-data in place",
                "overwrote 2 secret entries of /var/lib/cloud/instance/user-data.txt in place",
                "overwrote and removed cloud-init's copy /var/lib/cloud/instance/obj.pkl",
                "fstrim: " + boot + " is not a mount point");
        for (Path scrubbed : List.of(seed, copy)) {
            String text = Files.readString(scrubbed);
            assertThat(text).doesNotContain(password).doesNotContain(privateKeyLine).doesNotContainPattern("(?m)^ssh_keys:")
                    .doesNotContain("PRIVATE KEY").doesNotContain("  - path: \"/etc/keepalived/keepalived.conf\"\n")
                    .contains("#cloud-config", "hostname: lb1", "  - path: \"/etc/haproxy/haproxy.cfg\"\n", "ssh_deletekeys: true")
                    .doesNotContainPattern("#\\s{8,}\\n");
            ProcessResult schema = ExternalTool.run(Duration.ofSeconds(120), List.of(cloudInit.toString(), "schema", "-c",
                    scrubbed.toString()), dir);
            assertThat(schema.exitCode()).as(schema.output()).isZero();
        }
        // The same file in the same blocks: overwritten where it lay, then shortened.
        assertThat((long) Files.getAttribute(seed, "unix:ino")).isEqualTo(inode);
        assertThat(firstBlock(filefrag, seed)).isEqualTo(seedBlocks);
        assertThat(firstBlock(filefrag, copy)).isEqualTo(copyBlocks);
        for (String derived : List.of("user-data.txt.i", "cloud-config.txt", "obj.pkl", "scripts")) {
            assertThat(instance.resolve(derived)).doesNotExist();
        }

        byte[] after = Files.readAllBytes(seed);
        ProcessResult second = finish(root);
        assertThat(second.exitCode()).as(second.output()).isZero();
        assertThat(second.stderr()).doesNotContain("overwrote");
        assertThat(Files.readAllBytes(seed)).isEqualTo(after);
    }

    /** The physical block the file starts at (filefrag's first extent), after a sync. */
    private String firstBlock(Path filefrag, Path file) {
        ExternalTool.run(Duration.ofSeconds(60), List.of("sync"), dir);
        ProcessResult r = ExternalTool.run(Duration.ofSeconds(30), List.of(filefrag.toString(), "-v", file.toString()), dir);
        Matcher m = Pattern.compile("(?m)^\\s*0:\\s+0\\.\\.\\s*\\d+:\\s+(\\d+)\\.\\.").matcher(r.stdout());
        boolean mapped = r.exitCode() == 0 && m.find();
        if (!mapped && !ExternalTool.required()) {
            Assumptions.abort("filefrag cannot map " + file + " on this file system: " + r.output());
        }
        assertThat(mapped).as("filefrag -v %s: %s", file, r.output()).isTrue();
        return m.group(1);
    }

    private ProcessResult finish(Path root) {
        return finish(root, "");
    }

    /** The real phase in {@code root}, after {@code before} (bash; $1 is the root). */
    private ProcessResult finish(Path root, String before) {
        Path script = Project.root().resolve("overlays/common/usr/local/lib/piimage/phases/90-finish.sh");
        return ExternalTool.run(Duration.ofSeconds(60), List.of(ExternalTool.require("bash").toString(), "-c",
                "set -euo pipefail; " + before + " ROOT=\"$1\"; PIIMAGE_BOOT_MOUNT=/boot/firmware;"
                        + " log() { echo \"$*\" >&2; }; fail() { echo \"error: $*\" >&2; return 1; };"
                        + " . \"$2\"; phase_finish", "finish", root.toString(), script.toString()), dir);
    }
}
