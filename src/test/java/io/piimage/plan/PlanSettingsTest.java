package io.piimage.plan;

import static io.piimage.plan.PlanTexts.BASE;
import static io.piimage.plan.PlanTexts.KEY;
import static io.piimage.plan.PlanTexts.error;
import static io.piimage.plan.PlanTexts.load;
import static io.piimage.plan.PlanTexts.problems;
import static io.piimage.plan.PlanTexts.replace;
import static org.assertj.core.api.Assertions.assertThat;

import io.piimage.pki.KeyAlgorithm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Defaults, explicit values, and the per-node and os settings. */
class PlanSettingsTest {

    static final String WORKER = "    address: 192.168.3.231\n";
    static final String LB1 = "    address: 192.168.3.241\n";

    static String worker(String extra) {
        return replace(BASE, WORKER, WORKER + extra);
    }

    static String os(String extra) {
        return replace(BASE, "os:\n", "os:\n" + extra);
    }

    // --- defaults ------------------------------------------------------------------------

    @Test
    void everyDefaultOfPlanFormatIsFilled() throws Exception {
        String yaml = replace(BASE, "  port: 9000\n", "");
        Plan plan = load(yaml).plan();
        assertThat(plan.cluster().podSubnet()).isEqualTo(Cidr.parse("10.244.0.0/16"));
        assertThat(plan.cluster().serviceSubnet()).isEqualTo(Cidr.parse("10.96.0.0/12"));
        assertThat(plan.cluster().dnsDomain()).isEqualTo("cluster.local");
        assertThat(plan.cluster().cni()).isEqualTo(Cni.FLANNEL);
        assertThat(plan.cluster().keyAlgorithm()).isEqualTo(KeyAlgorithm.RSA_2048);
        assertThat(plan.endpoint().port()).isEqualTo(6443);
        assertThat(plan.endpoint().vrrp()).isEqualTo(new Vrrp(PlanLoader.defaultRouterId("lab"), true, false));
        assertThat(plan.network().dns()).containsExactly(Ipv4.parse("192.168.3.1"));
        assertThat(plan.network().searchDomains()).isEmpty();
        assertThat(plan.network().interfaceName()).isEqualTo("eth0");
        assertThat(plan.os().image()).isEqualTo("ubuntu-24.04");
        assertThat(plan.os().user()).isNull();
        assertThat(plan.os().timezone()).isEqualTo("Etc/UTC");
        assertThat(plan.os().locale()).isNull();
        assertThat(plan.os().ntpServers()).isEmpty();
        assertThat(plan.os().registryMirrors()).isEmpty();
        Node worker = plan.node("worker1").orElseThrow();
        assertThat(worker).isEqualTo(new Node("worker1", Role.WORKER, Ipv4.parse("192.168.3.231"), null, Map.of(), List.of(),
                null, null, null));
        assertThat(plan.imageOf(worker)).isEqualTo("ubuntu-24.04");
        assertThat(plan.interfaceOf(worker)).isEqualTo("eth0");
    }

    @Test
    void anEmptyOptionalValueTakesTheDefault() throws Exception {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  cni:\n  podSubnet: ~\n");
        Plan plan = load(yaml).plan();
        assertThat(plan.cluster().cni()).isEqualTo(Cni.FLANNEL);
        assertThat(plan.cluster().podSubnet()).isEqualTo(Cidr.parse("10.244.0.0/16"));
    }

    @Test
    void everyKeyIsReadWhenWritten() throws Exception {
        String yaml = replace(replace(replace(replace(BASE,
                "  name: lab\n", """
                  name: lab
                  podSubnet: 10.32.0.0/16
                  serviceSubnet: 10.33.0.0/16
                  dnsDomain: lab.internal
                  cni: none
                  keyAlgorithm: ecdsa-p256
                """),
                "  loadBalancer: dedicated\n", """
                  loadBalancer: dedicated
                  vrrp:
                    routerId: 77
                    unicast: false
                    preempt: true
                """),
                "  gateway: 192.168.3.1\n", """
                  gateway: 192.168.3.1
                  dns: [192.168.3.53, 1.1.1.1]
                  searchDomains: [lab.local]
                  interface: end0
                """),
                "os:\n", """
                os:
                  image: raspios-trixie
                  user: pi
                  timezone: Europe/Berlin
                  locale: de_DE.UTF-8
                  ntpServers: [ntp.nict.jp, 192.168.3.1]
                """);
        yaml = replace(yaml, WORKER, WORKER + """
                    model: pi5
                    labels: {topology.kubernetes.io/zone: shelf-a, disk: ssd}
                    taints: [dedicated=gpu:NoSchedule]
                    image: ubuntu-24.04
                    interface: eth0
                """);
        Plan plan = load(yaml).plan();
        assertThat(plan.cluster()).isEqualTo(new Cluster("lab", new KubernetesVersion(1, 31, -1), Cidr.parse("10.32.0.0/16"),
                Cidr.parse("10.33.0.0/16"), "lab.internal", Cni.NONE, KeyAlgorithm.ECDSA_P256));
        assertThat(plan.endpoint().vrrp()).isEqualTo(new Vrrp(77, false, true));
        assertThat(plan.network()).isEqualTo(new Network(Cidr.parse("192.168.3.0/24"), Ipv4.parse("192.168.3.1"),
                List.of(Ipv4.parse("192.168.3.53"), Ipv4.parse("1.1.1.1")), List.of("lab.local"), "end0"));
        assertThat(plan.os()).isEqualTo(new OsSettings("raspios-trixie", "pi", List.of(KEY), "Europe/Berlin", "de_DE.UTF-8",
                List.of("ntp.nict.jp", "192.168.3.1"), List.of()));
        Node worker = plan.node("worker1").orElseThrow();
        assertThat(worker).isEqualTo(new Node("worker1", Role.WORKER, Ipv4.parse("192.168.3.231"), PiModel.PI5,
                Map.of("topology.kubernetes.io/zone", "shelf-a", "disk", "ssd"), List.of(new Taint("dedicated", "gpu", "NoSchedule")),
                "ubuntu-24.04", "eth0", null));
        assertThat(plan.interfaceOf(plan.node("master1").orElseThrow())).isEqualTo("end0");
    }

    // --- the VRRP router id --------------------------------------------------------------

    @Test
    void theDefaultRouterIdIsOnePlusCrc32OfTheNameMod254() {
        // CRC-32("makina") = 3406853264; 3406853264 mod 254 = 32.
        assertThat(PlanLoader.defaultRouterId("makina")).isEqualTo(33);
        assertThat(PlanLoader.defaultRouterId("makina")).isEqualTo(PlanLoader.defaultRouterId("makina"));
    }

    @Test
    void theDefaultRouterIdAvoidsTheTutorialDefault51() {
        // CRC-32("lab590") mod 254 = 50, so the formula gives 51: keepalived's tutorial id.
        assertThat(PlanLoader.defaultRouterId("lab590")).isEqualTo(52);
    }

    // --- labels and taints ---------------------------------------------------------------

    @Test
    void labelsOnALoadBalancerAreAnError() {
        String yaml = replace(BASE, LB1, LB1 + "    labels: {zone: a}\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "labels", "node 'lb1' labels: a load-balancer node does not run"
                + " Kubernetes; labels apply only to control-plane and worker nodes"));
    }

    @Test
    void taintsOnAGatewayAreAnError() {
        String yaml = BASE + "  - name: gw\n    role: gateway\n    address: 192.168.3.1\n    interface: eth1\n    uplink: eth0\n"
                + "    taints: [a:NoSchedule]\n";
        assertThat(problems(yaml)).containsExactly(error(yaml, "taints", "node 'gw' taints: a gateway node does not run"
                + " Kubernetes; taints apply only to control-plane and worker nodes"));
    }

    @Test
    void labelsMustBeAMapping() {
        String yaml = worker("    labels: [zone]\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "[zone]",
                "node 'worker1' labels: must be a mapping (key: value lines), not a list"));
    }

    @Test
    void aLabelKeyMustFollowKubernetesSyntax() {
        String yaml = worker("    labels: {bad key: a}\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "bad key", "node 'worker1' labels: 'bad key' is not a valid label key:"
                + " use letters, digits, '-', '_' and '.', starting and ending with a letter or digit (optionally after a DNS prefix and '/')"));
        String longName = worker("    labels: {" + "a".repeat(64) + ": x}\n");
        assertThat(problems(longName)).containsExactly(error(longName, "aaaa", "node 'worker1' labels: '" + "a".repeat(64)
                + "' is not a valid label key: its name is longer than 63 characters"));
        String badPrefix = worker("    labels: {Example.COM/zone: a}\n");
        assertThat(problems(badPrefix)).containsExactly(error(badPrefix, "Example.COM", "node 'worker1' labels:"
                + " 'Example.COM/zone' is not a valid label key: its prefix 'Example.COM' is not a lowercase DNS name"));
    }

    @Test
    void aLabelValueMustFollowKubernetesSyntax() {
        String yaml = worker("    labels: {zone: 'shelf a'}\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "'shelf a'", "node 'worker1' label 'zone': 'shelf a' is not a valid"
                + " label value: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"));
        String tooLong = worker("    labels: {zone: " + "b".repeat(64) + "}\n");
        assertThat(problems(tooLong)).containsExactly(error(tooLong, "bbbb", "node 'worker1' label 'zone': '" + "b".repeat(64)
                + "' is not a valid label value: it is longer than 63 characters"));
    }

    @Test
    void aNumericLabelValueIsReadAsText() throws Exception {
        Plan plan = load(worker("    labels: {rack: 01, empty: ''}\n")).plan();
        assertThat(plan.node("worker1").orElseThrow().labels()).isEqualTo(Map.of("rack", "01", "empty", ""));
    }

    @Test
    void taintsAreReadFromStringsAndMappings() throws Exception {
        Plan plan = load(worker("""
                    taints:
                      - gpu:NoExecute
                      - example.com/dedicated=ml:PreferNoSchedule
                      - {key: spot, value: "yes", effect: NoSchedule}
                      - {key: maintenance, effect: NoSchedule}
                """)).plan();
        assertThat(plan.node("worker1").orElseThrow().taints()).containsExactly(
                new Taint("gpu", "", "NoExecute"),
                new Taint("example.com/dedicated", "ml", "PreferNoSchedule"),
                new Taint("spot", "yes", "NoSchedule"),
                new Taint("maintenance", "", "NoSchedule"));
    }

    @Test
    void aTaintEffectMustBeKnown() {
        String yaml = worker("    taints: [{key: gpu, effect: noschedule}]\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "noschedule", "node 'worker1' taint #1: effect 'noschedule' is not"
                + " one of NoSchedule, PreferNoSchedule, NoExecute; did you mean 'NoSchedule'?"));
        String text = worker("    taints: ['gpu=a:Evict']\n");
        assertThat(problems(text)).containsExactly(error(text, "'gpu=a:Evict'", "node 'worker1' taint #1: effect 'Evict' is not"
                + " one of NoSchedule, PreferNoSchedule, NoExecute"));
    }

    @Test
    void aTaintStringNeedsAnEffect() {
        String yaml = worker("    taints: [dedicated=gpu]\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "dedicated=gpu", "node 'worker1' taint #1: 'dedicated=gpu' is not"
                + " a taint (key[=value]:Effect, e.g. dedicated=gpu:NoSchedule)"));
    }

    @Test
    void aTaintMappingNeedsKeyAndEffect() {
        String yaml = worker("    taints:\n      - value: x\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "value: x", "missing required key 'key' in node 'worker1' taint #1"),
                error(yaml, "value: x", "missing required key 'effect' in node 'worker1' taint #1"));
    }

    @Test
    void aTaintMappingHasOnlyKeyValueEffect() {
        String yaml = worker("    taints:\n      - {key: a, efect: NoSchedule}\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "{key", "missing required key 'effect' in node 'worker1' taint #1"),
                error(yaml, "efect", "unknown key 'efect' in node 'worker1' taint #1; did you mean 'effect'?"));
    }

    // --- images and interfaces -----------------------------------------------------------

    @Test
    void anUnknownOsImageSuggestsAProfile() {
        String yaml = os("  image: ubuntu-2404\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "ubuntu-2404", "os.image: 'ubuntu-2404' is not a known image profile"
                + " (raspios-trixie, ubuntu-24.04); did you mean 'ubuntu-24.04'?"));
    }

    @Test
    void anUnknownNodeImageIsAnError() {
        String yaml = worker("    image: debian-13\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "debian-13",
                "node 'worker1' image: 'debian-13' is not a known image profile (raspios-trixie, ubuntu-24.04)"));
    }

    @Test
    void aNodeImageOverridesTheOsImage() throws Exception {
        Plan plan = load(worker("    image: raspios-trixie\n")).plan();
        assertThat(plan.imageOf(plan.node("worker1").orElseThrow())).isEqualTo("raspios-trixie");
        assertThat(plan.imageOf(plan.node("master1").orElseThrow())).isEqualTo("ubuntu-24.04");
    }

    @Test
    void anInterfaceNameMustBeALinuxInterfaceName() {
        String yaml = worker("    interface: eth0/1\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "eth0/1", "node 'worker1' interface: 'eth0/1' is not a network"
                + " interface name (1-15 letters, digits, '.', '-' or '_', e.g. eth0)"));
        String network = replace(BASE, "  gateway: 192.168.3.1\n", "  gateway: 192.168.3.1\n  interface: averyveryverylongname\n");
        assertThat(problems(network)).containsExactly(error(network, "averyvery", "network.interface: 'averyveryverylongname' is not"
                + " a network interface name (1-15 letters, digits, '.', '-' or '_', e.g. eth0)"));
    }

    // --- network lists -------------------------------------------------------------------

    @Test
    void aBadDnsServerIsAnErrorAtItsItem() {
        String yaml = replace(BASE, "  gateway: 192.168.3.1\n", "  gateway: 192.168.3.1\n  dns: [1.1.1.1, 8.8.8]\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "8.8.8", "network.dns #2: '8.8.8' is not an IPv4 address (a.b.c.d)"));
    }

    @Test
    void anEmptyDnsListIsAnError() {
        String yaml = replace(BASE, "  gateway: 192.168.3.1\n", "  gateway: 192.168.3.1\n  dns: []\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "[]", "network.dns: needs at least one server (leave dns out to use network.gateway)"));
    }

    @Test
    void aBadSearchDomainIsAnError() {
        String yaml = replace(BASE, "  gateway: 192.168.3.1\n", "  gateway: 192.168.3.1\n  searchDomains: [lab.local, -bad]\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "-bad", "network.searchDomains #2: '-bad' is not a domain name (e.g. lab.local)"));
    }

    @Test
    void aBadDnsDomainIsAnError() {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  dnsDomain: Cluster.Local\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "Cluster.Local", "cluster.dnsDomain: 'Cluster.Local' is not a DNS"
                + " domain (lowercase labels joined by dots, e.g. cluster.local)"));
    }

    // --- os ------------------------------------------------------------------------------

    @Test
    void atLeastOneSshKeyIsRequired() {
        String yaml = replace(BASE, "  sshAuthorizedKeys:\n    - " + KEY + "\n", "  sshAuthorizedKeys: []\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "[]", "os.sshAuthorizedKeys: needs at least one key: password"
                + " login stays off, so without a key nobody can log in"));
        String missing = replace(BASE, "  sshAuthorizedKeys:\n    - " + KEY + "\n", "  timezone: Etc/UTC\n");
        assertThat(problems(missing)).containsExactly(error(missing, "timezone", "missing required key 'sshAuthorizedKeys' in os"));
    }

    @Test
    void anSshKeyMustLookLikeAPublicKey() {
        String yaml = replace(BASE, KEY, "AAAAC3NzaC1lZDI1NTE5 me@laptop");
        assertThat(problems(yaml)).containsExactly(error(yaml, "AAAAC3NzaC1lZDI1NTE5 me", "os.sshAuthorizedKeys #1: does not look like"
                + " an SSH public key (expected 'ssh-ed25519 AAAA... comment', a line of ~/.ssh/id_ed25519.pub)"));
    }

    @Test
    void aCutShortSshKeyIsAnError() {
        String yaml = replace(BASE, KEY, KEY.substring(0, 40) + " me@laptop");
        assertThat(problems(yaml)).containsExactly(error(yaml, "ssh-ed25519", "os.sshAuthorizedKeys #1: the ssh-ed25519 key data is"
                + " damaged or cut short; copy the whole line again"));
    }

    @Test
    void aPastedPrivateKeyIsRefusedWithoutEchoingIt() {
        String yaml = replace(BASE, "    - " + KEY, "    - '-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjE secret'");
        List<String> problems = problems(yaml);
        assertThat(problems).containsExactly(error(yaml, "'-----BEGIN", "os.sshAuthorizedKeys #1: this is a private key; paste the"
                + " public key (the .pub file) instead"));
        assertThat(String.join("\n", problems)).doesNotContain("b3BlbnNzaC1rZXktdjE");
    }

    @Test
    void anSshKeyWithAuthorizedKeysOptionsIsAccepted() throws Exception {
        String yaml = replace(BASE, "    - " + KEY, "    - 'from=\"192.168.3.0/24\" " + KEY + "'");
        assertThat(load(yaml).plan().os().sshAuthorizedKeys()).containsExactly("from=\"192.168.3.0/24\" " + KEY);
    }

    @Test
    void anUnknownTimezoneSuggestsOne() {
        String yaml = os("  timezone: Asia/Tokio\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "Asia/Tokio", "os.timezone: 'Asia/Tokio' is not a time zone"
                + " (e.g. Asia/Tokyo, Europe/Berlin, Etc/UTC); did you mean 'Asia/Tokyo'?"));
    }

    @Test
    void aBadUserNameIsAnError() {
        String yaml = os("  user: Pi User\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "Pi User", "os.user: 'Pi User' is not a valid user name (lowercase"
                + " letters, digits, '_' and '-', starting with a letter or '_', at most 32 characters)"));
    }

    @Test
    void aBadLocaleIsAnError() {
        String yaml = os("  locale: english\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "english", "os.locale: 'english' is not a locale name (e.g. en_US.UTF-8)"));
    }

    @Test
    void aBadNtpServerIsAnError() {
        String yaml = os("  ntpServers: [ntp.nict.jp, 'ntp server', 10.0.0.300]\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "'ntp server'", "os.ntpServers #2: 'ntp server' is not a host name or IPv4 address (e.g. ntp.nict.jp)"),
                error(yaml, "10.0.0.300", "os.ntpServers #3: '10.0.0.300' is not an IPv4 address: 300 > 255"));
    }

    // --- registry mirrors ----------------------------------------------------------------

    @Test
    void registryMirrorsAreReadWithInsecureDefaultingToFalse() throws Exception {
        Plan plan = load(os("""
                  registryMirrors:
                    registry.lab:5005:
                      endpoint: http://registry.lab:5005
                      insecure: true
                    docker.io:
                      endpoint: https://mirror.lab
                """)).plan();
        assertThat(plan.os().registryMirrors()).containsExactly(
                new RegistryMirror("registry.lab:5005", "http://registry.lab:5005", true),
                new RegistryMirror("docker.io", "https://mirror.lab", false));
    }

    @Test
    void aRegistryMirrorNeedsAnEndpoint() {
        String yaml = os("  registryMirrors:\n    registry.lab:5005:\n      insecure: true\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "insecure", "missing required key 'endpoint' in os.registryMirrors 'registry.lab:5005'"));
    }

    @Test
    void aRegistryMirrorEndpointMustBeAnHttpUrl() {
        String yaml = os("  registryMirrors:\n    registry.lab:5005:\n      endpoint: registry.lab:5005\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "registry.lab:5005", 2, "os.registryMirrors 'registry.lab:5005'"
                + " endpoint: 'registry.lab:5005' is not an http:// or https:// URL (e.g. http://registry.lab:5005)"));
    }

    @Test
    void aRegistryMirrorHostMustBeAHost() {
        String yaml = os("  registryMirrors:\n    http://registry.lab:\n      endpoint: http://registry.lab\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "http://registry.lab:\n", "os.registryMirrors: 'http://registry.lab'"
                + " is not a registry host (host or host:port, as image names write it, e.g. registry.lab:5005)"));
    }

    @Test
    void aRegistryMirrorHasOnlyEndpointAndInsecure() {
        String yaml = os("  registryMirrors:\n    registry.lab:5005:\n      endpoint: http://registry.lab:5005\n      insecure: yes\n"
                + "      skipVerify: true\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "yes", "os.registryMirrors 'registry.lab:5005' insecure: must be true or false, not 'yes'"),
                error(yaml, "skipVerify", "unknown key 'skipVerify' in os.registryMirrors 'registry.lab:5005'"));
    }
}
