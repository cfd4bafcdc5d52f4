package io.piimage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.testing.ExternalTool;
import io.piimage.testing.ExternalTool.ProcessResult;
import io.piimage.testing.Project;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** The baked files, checked by the tools that will read them: cloud-init, kubectl, openssl. */
class BakedOutputRealToolsTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"makina.yaml", "nkte8.yaml"})
    void everyUserDataPassesCloudInitSchema(String example) throws Exception {
        Path cloudInit = ExternalTool.require("cloud-init");
        Bake.Result result = Bake.builder(Project.copyExample(example, dir)).output(dir.resolve("out")).build().run();
        for (var node : result.plan().nodes()) {
            Path userData = dir.resolve("out").resolve(node.name()).resolve("user-data");
            ProcessResult check = ExternalTool.run(Duration.ofSeconds(60),
                    List.of(cloudInit.toString(), "schema", "-c", userData.toString()), dir);
            assertThat(check.exitCode()).as(node.name() + ": " + check.output()).isZero();
            assertThat(check.output()).as(node.name()).contains("Valid cloud-config");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"makina.yaml", "nkte8.yaml"})
    void adminConfParsesWithKubectlAndPointsAtTheVip(String example) throws Exception {
        Path kubectl = ExternalTool.require("kubectl");
        Bake.Result result = Bake.builder(Project.copyExample(example, dir)).output(dir.resolve("out")).build().run();
        Path adminConf = dir.resolve("out/admin.conf");
        ProcessResult view = ExternalTool.run(Duration.ofSeconds(60), List.of(kubectl.toString(), "config", "view",
                "--kubeconfig", adminConf.toString(), "-o",
                "jsonpath={.clusters[0].cluster.server} {.users[0].name} {.current-context}"), dir);
        assertThat(view.exitCode()).as(view.output()).isZero();
        assertThat(view.stdout()).isEqualTo(result.plan().endpoint().url() + " kubernetes-admin kubernetes-admin@"
                + result.plan().cluster().name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"makina.yaml", "nkte8.yaml"})
    void adminCertificateChainsToTheClusterCaWithOpenssl(String example) throws Exception {
        Path openssl = ExternalTool.require("openssl");
        Bake.Result result = Bake.builder(Project.copyExample(example, dir)).output(dir.resolve("out")).build().run();
        Path secrets = result.secretsDir();
        ProcessResult verify = ExternalTool.run(Duration.ofSeconds(30), List.of(openssl.toString(), "verify",
                "-CAfile", secrets.resolve("ca.crt").toString(), secrets.resolve("admin.crt").toString()), dir);
        assertThat(verify.exitCode()).as(verify.output()).isZero();
        // The CA a control plane receives is the one the operator's admin.conf trusts.
        var firstControlPlane = result.cards().stream().filter(c -> c.node().equals(result.plan().firstControlPlane()))
                .findFirst().orElseThrow();
        assertThat(firstControlPlane.nodeFiles().file("/etc/kubernetes/pki/ca.crt").orElseThrow().text())
                .isEqualTo(Files.readString(secrets.resolve("ca.crt")));
    }
}
