package io.piimage.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class TemplatesTest {

    @TempDir
    Path dir;

    private void write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void overlayFilesMirrorTheNodesFilesystemWithModes() throws Exception {
        write("overlays/t/etc/app.conf.ftl", "name=${name}\n");
        write("overlays/t/usr/local/sbin/run.ftl", "#!/bin/bash\necho ${name}\n");
        write("overlays/t/etc/secret.conf.ftl", "<#global mode = \"0600\">password=${name}\n");
        write("overlays/t/etc/skipped.conf.ftl", "<#if false>never</#if>\n  \n");
        write("overlays/t/etc/static.txt", "copied ${as-is}\n");
        List<NodeFile> files = new OverlayRenderer(new Templates(TemplateSource.withOverrides(dir)))
                .render(List.of("t"), Map.of("name", "lb1"));
        assertThat(files).extracting(NodeFile::path).containsExactly(
                "/etc/app.conf", "/etc/secret.conf", "/etc/static.txt", "/usr/local/sbin/run");
        assertThat(files.get(0).text()).isEqualTo("name=lb1\n");
        assertThat(files.get(0).mode()).isEqualTo(0644);
        assertThat(files.get(1).mode()).isEqualTo(0600);
        assertThat(files.get(1).text()).isEqualTo("password=lb1\n");
        assertThat(files.get(2).text()).isEqualTo("copied ${as-is}\n");
        assertThat(files.get(3).mode()).isEqualTo(0755);
    }

    @Test
    void twoOverlaysWritingOnePathIsAnError() throws Exception {
        write("overlays/a/etc/x.ftl", "a\n");
        write("overlays/b/etc/x.ftl", "b\n");
        OverlayRenderer renderer = new OverlayRenderer(new Templates(TemplateSource.withOverrides(dir)));
        assertThatThrownBy(() -> renderer.render(List.of("a", "b"), Map.of()))
                .isInstanceOf(RenderException.class).hasMessageContaining("/etc/x");
    }

    @Test
    void aMissingValueIsAnErrorNamingTemplateAndLine() throws Exception {
        write("cloud-init/user-data.ftl", "#cloud-config\nhostname: ${node.name}\n");
        Templates templates = new Templates(TemplateSource.withOverrides(dir));
        assertThatThrownBy(() -> templates.render("cloud-init/user-data.ftl", Map.of()))
                .isInstanceOf(RenderException.class)
                .hasMessageContaining("cloud-init/user-data.ftl").hasMessageContaining("line 2");
    }

    @Test
    void parsingAheadLeavesABrokenTemplateForRenderToReport() throws Exception {
        write("overlays/a/etc/broken.conf.ftl", "ok\n<#if>\n");
        write("overlays/a/etc/fine.conf.ftl", "${x}\n");
        Templates templates = new Templates(TemplateSource.withOverrides(dir));
        OverlayRenderer renderer = new OverlayRenderer(templates);
        renderer.parseAhead(List.of("a", "no-such-overlay"));
        assertThat(templates.render("overlays/a/etc/fine.conf.ftl", Map.of("x", "rendered"))).isEqualTo("rendered\n");
        assertThatThrownBy(() -> renderer.render(List.of("a"), Map.of("x", "y")))
                .isInstanceOf(RenderException.class)
                .hasMessageContaining("overlays/a/etc/broken.conf.ftl").hasMessageContaining("line 2");
    }

    @Test
    void templatesCannotReachJavaClasses() throws Exception {
        write("x.ftl", "<#assign ex = \"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}");
        Templates templates = new Templates(TemplateSource.withOverrides(dir));
        assertThatThrownBy(() -> templates.render("x.ftl", Map.of())).isInstanceOf(RenderException.class);
    }

    @Test
    void anOverrideDirectoryWinsAndFallsBackToPackagedTemplates() throws Exception {
        write("cloud-init/meta-data.ftl", "instance-id: overridden\n");
        TemplateSource source = TemplateSource.withOverrides(dir);
        assertThat(source.read("cloud-init/meta-data.ftl")).contains("instance-id: overridden\n");
        assertThat(source.read("cloud-init/user-data.ftl")).hasValueSatisfying(t -> assertThat(t).startsWith("#cloud-config"));
        assertThat(source.list("overlays/common")).contains("etc/hosts.ftl");
    }

    @Test
    void aSourceReadsEachFileOnceSoOneBakeSeesOneVersion() throws Exception {
        write("overlays/a/etc/x.conf", "first\n");
        TemplateSource source = TemplateSource.withOverrides(dir);
        assertThat(source.read("overlays/a/etc/x.conf")).contains("first\n");
        write("overlays/a/etc/x.conf", "changed while the bake ran\n");
        assertThat(source.read("overlays/a/etc/x.conf")).contains("first\n");
        assertThat(TemplateSource.withOverrides(dir).read("overlays/a/etc/x.conf")).contains("changed while the bake ran\n");
    }

    @Test
    void freeMarkerLogsNothingOfItsOwn() {
        // Its default would start java.util.logging on every bake; errors reach the user as RenderExceptions.
        new Templates(TemplateSource.packaged());
        assertThat(System.getProperty("org.freemarker.loggerLibrary")).isEqualTo("none");
        assertThat(freemarker.log.Logger.getLogger("piimage.test").getClass().getName()).contains("Null");
    }

    @Test
    void overlaysDeclarePackagesWithoutInstallingTheListAsAFile() throws Exception {
        write("overlays/a/packages", "# the load balancer\nhaproxy\nkeepalived  # VRRP\n");
        write("overlays/b/packages", "keepalived\ncurl\n");
        write("overlays/a/etc/x.conf", "x\n");
        OverlayRenderer renderer = new OverlayRenderer(new Templates(TemplateSource.withOverrides(dir)));
        assertThat(renderer.packages(List.of("a", "b"))).containsExactly("haproxy", "keepalived", "curl");
        assertThat(renderer.render(List.of("a", "b"), Map.of())).extracting(NodeFile::path).containsExactly("/etc/x.conf");
    }
}
