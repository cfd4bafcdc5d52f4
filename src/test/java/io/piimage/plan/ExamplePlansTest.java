package io.piimage.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The plans under examples/ are documentation: they must load, cleanly, with the seeds' topology. */
class ExamplePlansTest {

    static Path example(String name) {
        return Path.of(System.getProperty("piimage.projectRoot", "."), "examples", name);
    }

    @Test
    void makinaLoadsWithoutWarnings() throws Exception {
        LoadedPlan loaded = PlanLoader.load(example("makina.yaml"), PlanTexts.PROFILES);
        assertThat(loaded.warnings()).isEmpty();
        Plan plan = loaded.plan();
        assertThat(plan.cluster().name()).isEqualTo("makina");
        assertThat(plan.cluster().kubernetesVersion()).hasToString("1.31");
        assertThat(plan.endpoint().loadBalancer()).isEqualTo(LoadBalancerMode.DEDICATED);
        assertThat(plan.endpoint().hostPort()).isEqualTo("192.168.3.240:9000");
        assertThat(plan.endpoint().vrrp().routerId()).isEqualTo(PlanLoader.defaultRouterId("makina"));
        assertThat(plan.network().subnet()).hasToString("192.168.3.0/24");
        assertThat(plan.os().image()).isEqualTo("ubuntu-24.04");
        assertThat(plan.os().timezone()).isEqualTo("Asia/Tokyo");
        assertThat(plan.os().sshAuthorizedKeys()).hasSize(1).allMatch(k -> k.startsWith("ssh-ed25519 "));
        assertThat(plan.loadBalancers()).extracting(n -> n.name() + "=" + n.address()).containsExactly(
                "lb1=192.168.3.241", "lb2=192.168.3.242");
        assertThat(plan.controlPlanes()).extracting(n -> n.name() + "=" + n.address() + "/" + n.model()).containsExactly(
                "master1=192.168.3.251/pi4", "master2=192.168.3.252/pi4", "master3=192.168.3.253/pi4");
        assertThat(plan.workers()).extracting(n -> n.name() + "=" + n.address() + "/" + n.model()).containsExactly(
                "worker1=192.168.3.231/pi4", "worker2=192.168.3.232/pi4", "worker3=192.168.3.233/pi4");
        Node gw = plan.gatewayNode().orElseThrow();
        assertThat(gw.address()).isEqualTo(plan.network().gateway());
        assertThat(plan.interfaceOf(gw)).isEqualTo("eth1");
        assertThat(gw.uplink()).isEqualTo("eth0");
    }

    @Test
    void nkte8LoadsWithoutWarnings() throws Exception {
        LoadedPlan loaded = PlanLoader.load(example("nkte8.yaml"), PlanTexts.PROFILES);
        assertThat(loaded.warnings()).isEmpty();
        Plan plan = loaded.plan();
        assertThat(plan.endpoint().loadBalancer()).isEqualTo(LoadBalancerMode.VIP_ONLY);
        assertThat(plan.endpoint().hostPort()).isEqualTo("192.168.3.10:6443");
        assertThat(plan.cluster().cni()).isEqualTo(Cni.CALICO);
        // Calico's default pool 192.168.0.0/16 would overlap the LAN; the example must not.
        assertThat(plan.cluster().podSubnet().overlaps(Cidr.parse("192.168.0.0/16"))).isFalse();
        assertThat(plan.os().registryMirrors()).containsExactly(
                new RegistryMirror("registry.neko.lab:5005", "http://registry.neko.lab:5005", true));
        assertThat(plan.vipHolders()).extracting(n -> n.name() + "=" + n.address()).containsExactly(
                "master01=192.168.3.11", "master02=192.168.3.12", "master03=192.168.3.13");
        assertThat(plan.workers()).extracting(Node::name).containsExactly("node01", "node02", "node03", "node04");
        assertThat(plan.loadBalancers()).isEmpty();
        assertThat(plan.gatewayNode()).isEmpty();
    }
}
