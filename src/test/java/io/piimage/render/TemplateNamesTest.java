package io.piimage.render;

import io.piimage.util.FileTrees;
import io.piimage.util.Quoting;
import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.cli.CliRunner;
import io.piimage.pipeline.Bake;
import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Names of files in {@code --templates} become paths in user-data: every legal name arrives exactly (and
 * the user-data passes {@code cloud-init schema}); names cloud-init cannot write and symbolic links are
 * refused before anything is written.
 */
class TemplateNamesTest {

    /** Names YAML would misread unquoted: a mapping, a comment, quotes, indicators, spaces, non-ASCII. */
    static final List<String> NASTY = List.of("key: value.conf", "path #not-a-comment.conf", "\"double\".conf",
            "it's.conf", "- dash", "[flow].conf", "{map}.conf", "&anchor", "*alias", "!tag", "%directive", "@at",
            "`tick", "|pipe", ">fold", "? query", "trailing space ", " leading space", "null", "0755", "yes",
            "ünïcödé 日本.conf", "strawberry \uD83C\uDF53");

    @TempDir
    Path tmp;

    Path plan() throws IOException {
        return Files.writeString(tmp.resolve("tiny.yaml"), "apiVersion: piimage/v1\n"
                + "cluster: {name: tiny, kubernetesVersion: \"1.31\"}\n"
                + "endpoint: {vip: 10.30.0.10, port: 6443, loadBalancer: vip-only}\n"
                + "network: {subnet: 10.30.0.0/24, gateway: 10.30.0.1}\n"
                + "os: {image: ubuntu-24.04, sshAuthorizedKeys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyhZ8i+YCd1XNBRAE4jd6SKKj1cZ2m39l0vbYL5qMYz me@laptop\"]}\n"
                + "nodes:\n"
                + "  - {name: cp1, role: control-plane, address: 10.30.0.11, model: pi5}\n");
    }

    private Path templates(List<String> names) throws IOException {
        Path dir = tmp.resolve("templates");
        Path etc = Files.createDirectories(dir.resolve("overlays/common/etc/piimage-names"));
        for (String name : names) {
            Files.writeString(etc.resolve(name), "content of " + name + "\n");
        }
        // A template too: its name loses .ftl and must still arrive exactly.
        Files.writeString(etc.resolve("rendered: ${x} #1.conf.ftl"), "node ${node.name}\n");
        return dir;
    }

    @Test
    @SuppressWarnings("unchecked")
    void nastyNamesArriveExactlyAndUserDataPassesCloudInitSchema() throws Exception {
        Path cloudInit = ExternalTool.require("cloud-init");
        Path out = tmp.resolve("out");
        Bake.builder(plan()).output(out).templatesDir(templates(NASTY)).build().run();

        Path userData = out.resolve("cp1/user-data");
        ProcessResult check = ExternalTool.run(Duration.ofSeconds(60),
                List.of(cloudInit.toString(), "schema", "-c", userData.toString()), tmp);
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("Valid cloud-config");

        Map<String, Object> doc = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(userData));
        List<Map<String, Object>> writeFiles = (List<Map<String, Object>>) doc.get("write_files");
        Map<Object, Object> byPath = new java.util.HashMap<>();
        for (Map<String, Object> f : writeFiles) {
            byPath.put(f.get("path"), f.get("content"));
        }
        List<String> expected = new ArrayList<>();
        for (String name : NASTY) {
            expected.add("/etc/piimage-names/" + name);
            assertThat(byPath.get("/etc/piimage-names/" + name)).as(name).isEqualTo("content of " + name + "\n");
        }
        assertThat(byPath.get("/etc/piimage-names/rendered: ${x} #1.conf")).isEqualTo("node cp1\n");
        // No key was added or lost: every entry is a file the overlays or the secrets asked for.
        assertThat(writeFiles).allSatisfy(f -> assertThat(f.keySet()).isSubsetOf("path", "owner", "permissions",
                "content", "encoding"));
        assertThat(byPath.keySet()).containsAll(expected);
    }

    @Test
    void namesCloudInitCannotWriteAreRefusedNamingTheFileAndNothingIsWritten() throws Exception {
        Path plan = plan();
        for (String bad : List.of("evil\nruncmd: [reboot]", "bell\u0007", "carriage\r", "del\u007f", "nel\u0085",
                "line\u2028sep", "back\\slash")) {
            Path dir = templates(List.of(bad));
            Path out = tmp.resolve("out");
            CliRunner.Run run = CliRunner.piimage("bake", plan.toString(), "-o", out.toString(),
                    "--templates", dir.toString());
            assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
            assertThat(run.err()).as(bad).contains("piimage: error: templates directory " + dir)
                    .contains(Quoting.yaml("overlays/common/etc/piimage-names/" + bad)).contains("rename it")
                    .doesNotContain("internal error").doesNotContain("Exception");
            assertNothingWritten(out);
            FileTrees.delete(dir);
        }
    }

    @Test
    void symbolicLinksInTheTemplatesDirectoryAreRefusedAndNothingIsWritten() throws Exception {
        Path plan = plan();
        Path dir = templates(List.of("plain.conf"));
        Path etc = dir.resolve("overlays/common/etc/piimage-names");
        Path out = tmp.resolve("out");

        Files.createSymbolicLink(etc.resolve("passwd"), Path.of("/etc/passwd"));
        CliRunner.Run run = CliRunner.piimage("bake", plan.toString(), "-o", out.toString(), "--templates", dir.toString());
        assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
        assertThat(run.err()).contains("\"overlays/common/etc/piimage-names/passwd\" is a symbolic link")
                .doesNotContain("root:x:");
        assertNothingWritten(out);
        Files.delete(etc.resolve("passwd"));

        // A linked directory too, and a linked template outside overlays/.
        Files.createSymbolicLink(etc.resolve("ssh"), Path.of("/etc"));
        run = CliRunner.piimage("bake", plan.toString(), "-o", out.toString(), "--templates", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("\"overlays/common/etc/piimage-names/ssh\" is a symbolic link");
        assertNothingWritten(out);
        Files.delete(etc.resolve("ssh"));

        Files.createDirectories(dir.resolve("cloud-init"));
        Files.createSymbolicLink(dir.resolve("cloud-init/meta-data.ftl"), Path.of("/etc/hostname"));
        run = CliRunner.piimage("bake", plan.toString(), "-o", out.toString(), "--templates", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("\"cloud-init/meta-data.ftl\" is a symbolic link");
        assertNothingWritten(out);
        Files.delete(dir.resolve("cloud-init/meta-data.ftl"));

        // The directory itself may be a link: the user named it.
        Path linkedDir = Files.createSymbolicLink(tmp.resolve("templates-link"), dir);
        run = CliRunner.piimage("bake", plan.toString(), "-o", out.toString(), "-q", "--templates", linkedDir.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(Files.readString(out.resolve("cp1/user-data"))).contains("/etc/piimage-names/plain.conf");
    }

    private void assertNothingWritten(Path out) {
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("tiny.secrets")).doesNotExist();
    }
}
