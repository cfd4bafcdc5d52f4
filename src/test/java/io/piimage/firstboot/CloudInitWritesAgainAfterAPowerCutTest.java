package io.piimage.firstboot;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the rehearsal: a load balancer reset seconds after cloud-init's first boot came back with
 * its timesyncd configuration (cloud-init's ntp module) an empty file, and cloud-init writes such files
 * once per instance, so the node never asked the plan's time server. The first-boot runner flushes
 * cloud-init's files and records it; the user-data's bootcmd (every boot, before cloud-init's
 * once-per-instance modules) has those modules run again when a first boot left no such record. Here
 * the rendered bootcmd runs with sh on a scratch copy of cloud-init's state: what it does on a first
 * boot, after a power cut before the record, and after the record.
 */
class CloudInitWritesAgainAfterAPowerCutTest {

    @TempDir
    Path dir;

    BakedNodes baked;
    Path sem;

    @BeforeEach
    void bake() throws Exception {
        ExternalTool.require("sh");
        baked = BakedNodes.bake(dir, "pc-plan", Files.readString(Project.example("makina.yaml")));
        sem = Files.createDirectories(dir.resolve("var/lib/cloud/instance/sem"));
        Files.createDirectories(dir.resolve("var/lib/piimage"));
    }

    @SuppressWarnings("unchecked")
    String bootcmd(String node) {
        List<Object> commands = (List<Object>) baked.cloudConfig(node).get("bootcmd");
        assertThat(commands).as("%s: bootcmd", node).hasSize(1);
        List<String> command = (List<String>) commands.get(0);
        assertThat(command.subList(0, 2)).containsExactly("sh", "-c");
        return command.get(2);
    }

    ProcessResult boot(String node) {
        // The same command, with cloud-init's and piimage's state under the scratch directory.
        String script = bootcmd(node).replace("/var/lib/", dir + "/var/lib/");
        return ExternalTool.run(Duration.ofSeconds(20), List.of("sh", "-c", script), dir);
    }

    List<String> semaphores() throws Exception {
        try (Stream<Path> files = Files.list(sem)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void everyNodeWithTheFirstBootUnitHasTheBootcmd() {
        for (var node : baked.result.plan().nodes()) {
            Map<String, Object> config = baked.cloudConfig(node.name());
            assertThat(config).as(node.name()).containsKey("bootcmd");
            assertThat(bootcmd(node.name())).contains("/var/lib/piimage/seed-on-card",
                    "/var/lib/cloud/instance/sem/config_write_files");
        }
    }

    @Test
    void aFirstBootKeepsCloudInitsRecords() throws Exception {
        // Before bootcmd on a first boot, only the modules ahead of it have run.
        Files.writeString(sem.resolve("config_seed_random"), "");
        ProcessResult first = boot("lb1");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).isEmpty();
        assertThat(semaphores()).containsExactly("config_seed_random");
    }

    @Test
    void aBootAfterAPowerCutBeforeTheRunnersRecordHasCloudInitWriteTheFilesAgain() throws Exception {
        for (String module : List.of("config_write_files", "config_ntp", "config_ssh", "config_scripts_user")) {
            Files.writeString(sem.resolve(module), "");
        }
        Files.writeString(sem.resolve("consume_data"), "");
        ProcessResult again = boot("lb1");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.stdout()).contains("piimage: no record that this node's files reached the card;"
                + " cloud-init writes them again");
        assertThat(semaphores()).containsExactly("consume_data");
    }

    @Test
    void onceTheRunnerHasRecordedThemNothingIsWrittenAgain() throws Exception {
        Files.writeString(sem.resolve("config_write_files"), "");
        Files.writeString(dir.resolve("var/lib/piimage/seed-on-card"), "");
        ProcessResult later = boot("master1");
        assertThat(later.exitCode()).as(later.output()).isZero();
        assertThat(later.output()).isEmpty();
        assertThat(semaphores()).containsExactly("config_write_files");
    }
}
