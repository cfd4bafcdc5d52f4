package io.piimage.plan;

import static io.piimage.plan.PlanTexts.BASE;
import static io.piimage.plan.PlanTexts.error;
import static io.piimage.plan.PlanTexts.load;
import static io.piimage.plan.PlanTexts.problems;
import static io.piimage.plan.PlanTexts.replace;
import static io.piimage.plan.PlanTexts.warning;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The rules that span sections ({@link PlanRule}, docs/plan-format.md), and the warnings. */
class PlanRulesTest {

    static final String LOAD_BALANCERS = """
              - name: lb1
                role: load-balancer
                address: 192.168.3.241
              - name: lb2
                role: load-balancer
                address: 192.168.3.242
            """;

    /** BASE in vip-only form: no load balancers, port 6443. */
    static final String VIP_ONLY = replace(replace(replace(BASE, LOAD_BALANCERS, ""),
            "port: 9000", "port: 6443"), "loadBalancer: dedicated", "loadBalancer: vip-only");

    static final String GATEWAY = """
              - name: gw
                role: gateway
                address: 192.168.3.1
                interface: eth1
                uplink: eth0
            """;

    // --- names and addresses -------------------------------------------------------------

    @Test
    void nodeNamesAreUnique() {
        String yaml = replace(BASE, "name: master3", "name: master2");
        assertThat(problems(yaml)).containsExactly(error(yaml, "master2", 2,
                "node name 'master2' is already used by the node at line 25; names must be unique"));
    }

    @Test
    void aDuplicateAddressPointsAtTheSecondAndNamesTheFirstNode() {
        String yaml = replace(BASE, "address: 192.168.3.252", "address: 192.168.3.251");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.251", 2,
                "node 'master2' address 192.168.3.251 is already used by node 'master1'"));
    }

    @Test
    void aNodeAddressMustLieInsideTheSubnet() {
        String yaml = replace(BASE, "address: 192.168.3.231", "address: 192.168.4.231");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.4.231",
                "node 'worker1' address 192.168.4.231 is outside network.subnet 192.168.3.0/24"));
    }

    @Test
    void aNodeAddressMustNotBeTheNetworkAddress() {
        String yaml = replace(BASE, "address: 192.168.3.231", "address: 192.168.3.0");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.0\n",
                "node 'worker1' address 192.168.3.0 is the network address of 192.168.3.0/24, not a host address"));
    }

    @Test
    void aNodeAddressMustNotBeTheBroadcastAddress() {
        String yaml = replace(BASE, "address: 192.168.3.231", "address: 192.168.3.255");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.255",
                "node 'worker1' address 192.168.3.255 is the broadcast address of 192.168.3.0/24, not a host address"));
    }

    @Test
    void aNodeAddressMustNotBeTheVip() {
        String yaml = replace(BASE, "address: 192.168.3.231", "address: 192.168.3.240");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.240", 2,
                "node 'worker1' address 192.168.3.240 is the endpoint VIP; the VIP must be an address no node has"));
    }

    @Test
    void onlyTheGatewayNodeMayHaveTheGatewayAddress() {
        String yaml = replace(BASE, "address: 192.168.3.231", "address: 192.168.3.1");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.1\n", 2,
                "node 'worker1' address 192.168.3.1 is network.gateway; only a gateway node may have that address"));
    }

    // --- the VIP and the gateway ---------------------------------------------------------

    @Test
    void theVipMustLieInsideTheSubnet() {
        String yaml = replace(BASE, "vip: 192.168.3.240", "vip: 192.168.30.240");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.30.240",
                "endpoint.vip 192.168.30.240 is outside network.subnet 192.168.3.0/24"));
    }

    @Test
    void theVipMustNotBeTheNetworkOrBroadcastAddress() {
        String network = replace(BASE, "vip: 192.168.3.240", "vip: 192.168.3.0");
        assertThat(problems(network)).containsExactly(error(network, "192.168.3.0\n",
                "endpoint.vip 192.168.3.0 is the network address of 192.168.3.0/24, not a host address"));
        String broadcast = replace(BASE, "vip: 192.168.3.240", "vip: 192.168.3.255");
        assertThat(problems(broadcast)).containsExactly(error(broadcast, "192.168.3.255",
                "endpoint.vip 192.168.3.255 is the broadcast address of 192.168.3.0/24, not a host address"));
    }

    @Test
    void theVipMustNotBeTheGateway() {
        String yaml = replace(BASE, "vip: 192.168.3.240", "vip: 192.168.3.1");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.1\n",
                "endpoint.vip 192.168.3.1 is network.gateway; the VIP must be a free address of the subnet"));
    }

    @Test
    void theGatewayMustLieInsideTheSubnet() {
        String yaml = replace(BASE, "gateway: 192.168.3.1", "gateway: 192.168.0.1");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.0.1",
                "network.gateway 192.168.0.1 is outside network.subnet 192.168.3.0/24"));
    }

    @Test
    void atMostOneGatewayNode() {
        String second = GATEWAY.replace("gw", "gw2").replace("192.168.3.1\n", "192.168.3.2\n");
        String yaml = BASE + GATEWAY + second;
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "gateway", 3, "node 'gw2' is a second gateway (node 'gw' is the first); a plan has at most one gateway"),
                error(yaml, "192.168.3.2\n", "gateway node 'gw2' address 192.168.3.2 must equal network.gateway 192.168.3.1:"
                        + " the other nodes route through it"));
    }

    @Test
    void theGatewayNodesAddressMustEqualNetworkGateway() {
        String yaml = BASE + GATEWAY.replace("192.168.3.1\n", "192.168.3.5\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.3.5",
                "gateway node 'gw' address 192.168.3.5 must equal network.gateway 192.168.3.1: the other nodes route through it"));
    }

    @Test
    void aGatewayNodeNeedsAnUplink() {
        String yaml = BASE + GATEWAY.replace("    uplink: eth0\n", "");
        assertThat(problems(yaml)).containsExactly(error(yaml, "name: gw",
                "missing required key 'uplink' in node 'gw': a gateway needs the name of its home-LAN interface (e.g. eth0)"));
    }

    @Test
    void onlyAGatewayNodeHasAnUplink() {
        String yaml = replace(BASE, "    address: 192.168.3.231\n", "    address: 192.168.3.231\n    uplink: wlan0\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "uplink",
                "node 'worker1' uplink: only a gateway node has an uplink (its home-LAN interface); this node is a worker"));
    }

    @Test
    void aGatewaysUplinkIsNotItsClusterSideInterface() {
        String yaml = BASE + GATEWAY.replace("    interface: eth1\n", "");
        assertThat(problems(yaml)).containsExactly(error(yaml, "eth0", "node 'gw' uplink eth0 is also its cluster-side interface;"
                + " a gateway needs two (set interface: to the cluster side, e.g. eth1)"));
    }

    // --- subnets and version -------------------------------------------------------------

    @Test
    void thePodSubnetMustNotOverlapTheNodeNetwork() {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  podSubnet: 192.168.0.0/16\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "192.168.0.0/16", "cluster.podSubnet 192.168.0.0/16 overlaps"
                + " network.subnet 192.168.3.0/24: pods, services and the node network each need their own address range"));
    }

    @Test
    void theServiceSubnetMustNotOverlapThePodSubnet() {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  podSubnet: 10.0.0.0/8\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "10.0.0.0/8", "cluster.podSubnet 10.0.0.0/8 overlaps"
                + " cluster.serviceSubnet 10.96.0.0/12 (the default): pods, services and the node network each need their own address range"));
    }

    @Test
    void aDefaultSubnetOverlappingTheNodeNetworkPointsAtTheNodeNetwork() {
        String yaml = BASE.replace("192.168.3.", "10.244.3.");
        assertThat(problems(yaml)).containsExactly(error(yaml, "10.244.3.0/24", "cluster.podSubnet 10.244.0.0/16 (the default)"
                + " overlaps network.subnet 10.244.3.0/24: pods, services and the node network each need their own address range"));
    }

    @Test
    void kubernetesOlderThan131IsRefused() {
        String yaml = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.29.3\"");
        assertThat(problems(yaml)).containsExactly(error(yaml, "\"1.29.3\"",
                "cluster.kubernetesVersion: 1.29.3 is too old; piimage needs 1.31 or newer (kubeadm config v1beta4)"));
    }

    // --- control planes ------------------------------------------------------------------

    @Test
    void aPi3ControlPlaneIsAnError() {
        String yaml = replace(BASE, "    address: 192.168.3.251\n", "    address: 192.168.3.251\n    model: pi3\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "pi3", "node 'master1' is a pi3 control plane: a Raspberry Pi 3"
                + " has 1 GiB of memory and kubeadm needs 1700 MB on a control plane; use a pi4 or pi5"));
    }

    @Test
    void aPi3WorkerIsFine() throws Exception {
        String yaml = replace(BASE, "    address: 192.168.3.231\n", "    address: 192.168.3.231\n    model: pi3\n");
        assertThat(load(yaml).plan().node("worker1").orElseThrow().model()).isEqualTo(PiModel.PI3);
    }

    @Test
    void twoControlPlanesAreAnErrorExplainingQuorum() {
        String yaml = replace(BASE, "role: control-plane\n    address: 192.168.3.253", "role: worker\n    address: 192.168.3.253");
        assertThat(problems(yaml)).containsExactly(error(yaml, "control-plane", 2, "an even number of control planes (2) is an"
                + " error: etcd needs a majority of its members, so 2 control planes tolerate no failure, no more than 1 do; use 1 or 3"));
    }

    @Test
    void fourControlPlanesAreAnErrorExplainingQuorum() {
        String yaml = BASE + "  - name: master4\n    role: control-plane\n    address: 192.168.3.254\n";
        assertThat(problems(yaml)).containsExactly(error(yaml, "control-plane", 4, "an even number of control planes (4) is an"
                + " error: etcd needs a majority of its members, so 4 control planes tolerate only 1 failure, no more than 3 do;"
                + " use 3 or 5"));
    }

    @Test
    void noControlPlaneIsAnError() {
        String yaml = BASE.replace("role: control-plane", "role: worker");
        assertThat(problems(yaml)).containsExactly(error(yaml, "- name: lb1",
                "no control-plane node: a cluster needs at least one (three for high availability)"));
    }

    @Test
    void oneControlPlaneIsAWarningNotHighlyAvailable() throws Exception {
        String yaml = replace(replace(BASE, "role: control-plane\n    address: 192.168.3.252", "role: worker\n    address: 192.168.3.252"),
                "role: control-plane\n    address: 192.168.3.253", "role: worker\n    address: 192.168.3.253");
        LoadedPlan loaded = load(yaml);
        assertThat(loaded.warnings()).extracting(Diagnostic::format).containsExactly(warning(yaml, "control-plane",
                "only one control plane: the cluster is not highly available (three control planes survive the loss of one)"));
        assertThat(loaded.plan().controlPlanes()).hasSize(1);
    }

    // --- load-balancer topologies --------------------------------------------------------

    @Test
    void dedicatedNeedsALoadBalancerNode() {
        String yaml = replace(BASE, LOAD_BALANCERS, "");
        assertThat(problems(yaml)).containsExactly(error(yaml, "dedicated", "endpoint.loadBalancer is dedicated, but no node has"
                + " role load-balancer; add one (two for failover), or use stacked or vip-only"));
    }

    @Test
    void oneDedicatedLoadBalancerIsAWarningSinglePointOfFailure() throws Exception {
        String yaml = replace(BASE, "  - name: lb2\n    role: load-balancer\n    address: 192.168.3.242\n", "");
        assertThat(load(yaml).warnings()).extracting(Diagnostic::format).containsExactly(warning(yaml, "load-balancer",
                "only one load-balancer node: the load balancer is a single point of failure (add a second one for failover)"));
    }

    @Test
    void stackedAllowsNoLoadBalancerNode() {
        String yaml = replace(replace(BASE, "loadBalancer: dedicated", "loadBalancer: stacked"), "  - name: lb2\n    role: load-balancer\n"
                + "    address: 192.168.3.242\n", "");
        assertThat(problems(yaml)).containsExactly(error(yaml, "load-balancer", "node 'lb1' has role load-balancer, but"
                + " endpoint.loadBalancer is stacked: the control planes hold the VIP themselves; remove the node or use dedicated"));
    }

    @Test
    void vipOnlyAllowsNoLoadBalancerNode() {
        String yaml = replace(VIP_ONLY, "nodes:\n", "nodes:\n  - name: lb1\n    role: load-balancer\n    address: 192.168.3.241\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "load-balancer", "node 'lb1' has role load-balancer, but"
                + " endpoint.loadBalancer is vip-only: the control planes hold the VIP themselves; remove the node or use dedicated"));
    }

    @Test
    void stackedMustNotUsePort6443() {
        String yaml = replace(replace(BASE, LOAD_BALANCERS, ""), "loadBalancer: dedicated", "loadBalancer: stacked")
                .replace("port: 9000", "port: 6443");
        assertThat(problems(yaml)).containsExactly(error(yaml, "6443", "endpoint.port 6443 cannot be used with loadBalancer stacked:"
                + " the apiserver holds 6443 on every control plane, so HAProxy there needs another port (e.g. 8443)"));
    }

    @Test
    void stackedWithTheDefaultPortPointsAtTheTopology() {
        String yaml = replace(replace(BASE, LOAD_BALANCERS, ""), "loadBalancer: dedicated", "loadBalancer: stacked")
                .replace("  port: 9000\n", "");
        assertThat(problems(yaml)).containsExactly(error(yaml, "stacked", "endpoint.port 6443 (the default) cannot be used with"
                + " loadBalancer stacked: the apiserver holds 6443 on every control plane, so HAProxy there needs another port (e.g. 8443)"));
    }

    @Test
    void stackedWithAnotherPortIsValid() throws Exception {
        String yaml = replace(replace(BASE, LOAD_BALANCERS, ""), "loadBalancer: dedicated", "loadBalancer: stacked")
                .replace("port: 9000", "port: 8443");
        Plan plan = load(yaml).plan();
        assertThat(plan.endpoint().loadBalancer()).isEqualTo(LoadBalancerMode.STACKED);
        assertThat(plan.vipHolders()).extracting(Node::name).containsExactly("master1", "master2", "master3");
        assertThat(plan.nodes()).extracting(n -> n.name() + "=" + plan.vipHolderIndex(n) + (plan.isVipHolder(n) ? " holder" : ""))
                .contains("master1=0 holder", "master2=1 holder", "master3=2 holder")
                .allMatch(s -> s.startsWith("master") || s.endsWith("=-1"));
        assertThat(plan.nodes()).filteredOn(plan::isFirstControlPlane).extracting(Node::name).containsExactly("master1");
    }

    @Test
    void dedicatedLoadBalancersHoldTheVipInPlanOrder() throws Exception {
        Plan plan = load(BASE).plan();
        assertThat(plan.loadBalancers()).extracting(n -> n.name() + "=" + plan.vipHolderIndex(n)).containsExactly("lb1=0", "lb2=1");
        assertThat(plan.controlPlanes()).isNotEmpty().noneMatch(plan::isVipHolder);
    }

    @Test
    void vipOnlyMustUsePort6443() {
        String yaml = replace(VIP_ONLY, "port: 6443", "port: 9000");
        assertThat(problems(yaml)).containsExactly(error(yaml, "9000", "endpoint.port 9000 cannot be used with loadBalancer vip-only:"
                + " without HAProxy, clients reach the apiserver itself, which listens on 6443; set port: 6443"));
    }

    @Test
    void vipOnlyWithPort6443IsValid() throws Exception {
        assertThat(load(VIP_ONLY).plan().endpoint().url()).isEqualTo("https://192.168.3.240:6443");
    }

    // --- warnings ------------------------------------------------------------------------

    @Test
    void noWorkersIsAWarningThatControlPlanesRunWorkloads() throws Exception {
        String yaml = replace(BASE, "  - name: worker1\n    role: worker\n    address: 192.168.3.231\n", "");
        assertThat(load(yaml).warnings()).extracting(Diagnostic::format).containsExactly(warning(yaml, "- name: lb1",
                "no worker nodes: control planes will run workloads; their NoSchedule taint is removed"));
    }

    @Test
    void warningsComeWithTheErrorsInFileOrder() {
        String yaml = replace(replace(BASE, "  - name: worker1\n    role: worker\n    address: 192.168.3.231\n", ""),
                "port: 9000", "port: 90000");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "90000", "endpoint.port: 90000 is outside 1-65535"),
                warning(yaml, "- name: lb1", "no worker nodes: control planes will run workloads; their NoSchedule taint is removed"));
    }

    @Test
    void everyRuleBrokenAtOnceIsReportedAtOnce() {
        String yaml = replace(replace(replace(BASE, "address: 192.168.3.252", "address: 192.168.3.251"),
                "vip: 192.168.3.240", "vip: 192.168.3.1"), "address: 192.168.3.231", "address: 10.0.0.1");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "192.168.3.1\n", "endpoint.vip 192.168.3.1 is network.gateway; the VIP must be a free address of the subnet"),
                error(yaml, "192.168.3.251", 2, "node 'master2' address 192.168.3.251 is already used by node 'master1'"),
                error(yaml, "10.0.0.1", "node 'worker1' address 10.0.0.1 is outside network.subnet 192.168.3.0/24"));
    }
}
