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

    /**
     * netplan's own parser and generator on the gateway's rendered network-config: on Ubuntu the USB
     * adapter (the plan's eth1) is matched by its enx<MAC> name and renamed by a .link file, and the
     * uplink (the on-board eth0) is required for network-online, the renamed adapter is not (it is renamed
     * only after network-online on the first boot); on Raspberry Pi OS it is eth1 already.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ubuntu-24.04", "raspios-trixie"})
    void theGatewaysNetworkConfigGeneratesWithNetplan(String image) throws Exception {
        Path netplan = ExternalTool.require("netplan");
        String plan = Files.readString(Project.example("makina.yaml")).replace("image: ubuntu-24.04", "image: " + image);
        Path planFile = Files.writeString(dir.resolve("makina.yaml"), plan);
        Bake.builder(planFile).output(dir.resolve("out")).build().run();
        String config = Files.readString(dir.resolve("out/gw/network-config"));
        Path root = Files.createDirectories(dir.resolve("root"));
        Path yaml = Files.createDirectories(root.resolve("etc/netplan")).resolve("50-cloud-init.yaml");
        Files.writeString(yaml, config);
        Files.setPosixFilePermissions(yaml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        ProcessResult generate = ExternalTool.run(Duration.ofSeconds(60),
                List.of(netplan.toString(), "generate", "--root-dir", root.toString()), dir);
        assertThat(generate.exitCode()).as(config + generate.output()).isZero();

        Path network = root.resolve("run/systemd/network");
        String cluster = Files.readString(network.resolve("10-netplan-eth1.network"));
        assertThat(cluster).contains("Name=eth1", "Address=192.168.3.1/24");
        String uplink = Files.readString(network.resolve("10-netplan-eth0.network"));
        assertThat(uplink).contains("Name=eth0", "DHCP=ipv4").doesNotContain("RequiredForOnline=no");
        Path rename = network.resolve("10-netplan-eth1.link");
        if (image.startsWith("ubuntu")) {
            assertThat(Files.readString(rename)).contains("OriginalName=enx*", "Name=eth1");
            // Renamed only after network-online on the first boot: network-online must not wait for it
            // (the rehearsal's gateway failed systemd-networkd-wait-online after 2 min).
            assertThat(cluster).contains("RequiredForOnline=no");
        } else {
            assertThat(config).doesNotContain("set-name", "enx");
            assertThat(rename).doesNotExist();
        }
    }
}
