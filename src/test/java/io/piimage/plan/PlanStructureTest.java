package io.piimage.plan;

import static io.piimage.plan.PlanTexts.BASE;
import static io.piimage.plan.PlanTexts.at;
import static io.piimage.plan.PlanTexts.error;
import static io.piimage.plan.PlanTexts.load;
import static io.piimage.plan.PlanTexts.problems;
import static io.piimage.plan.PlanTexts.replace;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** YAML syntax, the schema walk (unknown keys, types, missing keys) and value syntax. */
class PlanStructureTest {

    @Test
    void theBasePlanIsValidAndHasNoWarnings() throws Exception {
        LoadedPlan loaded = load(BASE);
        assertThat(loaded.warnings()).isEmpty();
        assertThat(loaded.plan().nodes()).hasSize(6);
    }

    @Test
    void positionsAreOneBasedLineAndColumn() {
        String yaml = replace(BASE, "address: 192.168.3.252", "address: 192.168.3.251");
        // Line 27 is "    address: 192.168.3.251" of master2; the value starts in column 14.
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:27:14: error: node 'master2' address 192.168.3.251 is already used by node 'master1'");
    }

    @Test
    void aYamlSyntaxErrorIsOneErrorAtTheParsersMark() {
        String yaml = replace(BASE, "  port: 9000\n", "  port: [9000\n");
        // The flow list swallows the next line; the parser stops at its ':'.
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:8:15: error: YAML syntax error: while parsing a flow sequence, expected ',' or ']', but got :");
    }

    @Test
    void aTabIndentIsASyntaxErrorWithItsPlace() {
        String yaml = replace(BASE, "  name: lab\n", "\tname: lab\n");
        assertThat(problems(yaml)).containsExactly("plan.yaml:3:1: error: YAML syntax error: while scanning for the next token,"
                + " found character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)");
    }

    @Test
    void aSecondDocumentIsASyntaxError() {
        String yaml = BASE + "---\napiVersion: piimage/v1\n";
        assertThat(problems(yaml)).containsExactly(error(yaml, "---",
                "YAML syntax error: expected a single document in the stream, but found another document"));
    }

    @Test
    void nodesWithoutAValueIsOneError() {
        String yaml = BASE.substring(0, BASE.indexOf("nodes:") + "nodes:".length()) + "\n";
        assertThat(problems(yaml)).containsExactly(error(yaml, "nodes:", "nodes: needs a value"));
    }

    @Test
    void anEmptyNodeListHasNoControlPlaneAndNoLoadBalancer() {
        String yaml = BASE.substring(0, BASE.indexOf("nodes:") + "nodes:".length()) + " []\n";
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "dedicated", "endpoint.loadBalancer is dedicated, but no node has role load-balancer; add one"
                        + " (two for failover), or use stacked or vip-only"),
                error(yaml, "[]", "no control-plane node: a cluster needs at least one (three for high availability)"));
    }

    @Test
    void anEmptyPlanIsAnError() {
        assertThat(problems("# nothing yet\n")).containsExactly("plan.yaml: error: the plan is empty");
    }

    @Test
    void aPlanThatIsNotAMappingIsAnError() {
        assertThat(problems("- a\n- b\n"))
                .containsExactly("plan.yaml:1:1: error: the plan must be a mapping (apiVersion: ..., cluster: ..., nodes: ...), not a list");
    }

    @Test
    void aDuplicateKeyPointsAtTheSecondAndNamesTheFirstLine() {
        String yaml = replace(BASE, "  port: 9000\n", "  port: 9000\n  port: 9001\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "port: 9001", "duplicate key 'port' in endpoint (first at line 7)"));
    }

    @Test
    void anchorsAndAliasesAreRefused() {
        String yaml = replace(BASE, "  subnet: 192.168.3.0/24\n", "  subnet: &net 192.168.3.0/24\n  dns: [*net]\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "&net",
                "YAML anchors and aliases (&net, *net) are not supported in a plan; write the value out"));
    }

    @Test
    void aBillionLaughsDocumentFailsFastWithoutExpanding() {
        StringBuilder yaml = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'i'; c++) {
            char p = (char) (c - 1);
            yaml.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *").append(p)
                    .append(", *").append(p).append(", *").append(p).append(", *").append(p).append("]\n");
        }
        long start = System.nanoTime();
        List<String> problems = problems(yaml.toString());
        assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
        assertThat(problems).isNotEmpty().allMatch(p -> p.contains(": error: "));
    }

    @Test
    void anUnknownKeyGetsDidYouMeanForACloseKey() {
        String yaml = replace(BASE, "  kubernetesVersion:", "  podsubnet: 10.0.0.0/16\n  kubernetesVersion:");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "podsubnet", "unknown key 'podsubnet' in cluster; did you mean 'podSubnet'?"));
    }

    @Test
    void anUnknownKeyWithinTwoEditsGetsDidYouMean() {
        String yaml = replace(BASE, "    address: 192.168.3.231", "    adress: 192.168.3.231");
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:" + at(yaml, "name: worker1") + ": error: missing required key 'address' in node 'worker1'",
                error(yaml, "adress", "unknown key 'adress' in node 'worker1'; did you mean 'address'?"));
    }

    @Test
    void anUnknownTopLevelKeyGetsDidYouMean() {
        String yaml = replace(BASE, "nodes:\n", "node:\n");
        assertThat(problems(yaml)).containsExactly(
                "plan.yaml:1:1: error: missing required key 'nodes' at the top level",
                error(yaml, "node:", "unknown key 'node' at the top level; did you mean 'nodes'?"));
    }

    @Test
    void aKeyInTheWrongSectionNamesItsSection() {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  vip: 192.168.3.240\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "vip: 192.168.3.240", 1, "unknown key 'vip' in cluster; 'vip' belongs in endpoint"));
    }

    @Test
    void anUnknownKeyFarFromAnyKnownOneHasNoSuggestion() {
        String yaml = replace(BASE, "  loadBalancer: dedicated\n", "  loadBalancer: dedicated\n  flavour: vanilla\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "flavour", "unknown key 'flavour' in endpoint"));
    }

    @Test
    void aMissingRequiredKeyIsReportedAtItsParentMapping() {
        String yaml = replace(BASE, "  vip: 192.168.3.240\n", "");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "port: 9000", "missing required key 'vip' in endpoint"));
    }

    @Test
    void aMissingTopLevelKeyIsReportedAtTheRoot() {
        String yaml = replace(BASE, "apiVersion: piimage/v1\n", "");
        assertThat(problems(yaml)).containsExactly("plan.yaml:1:1: error: missing required key 'apiVersion' at the top level");
    }

    @Test
    void aRequiredKeyWithAnEmptyValueNeedsAValue() {
        String yaml = replace(BASE, "  vip: 192.168.3.240", "  vip:");
        assertThat(problems(yaml)).containsExactly(error(yaml, "vip:", "endpoint.vip: needs a value"));
    }

    @Test
    void theApiVersionMustBeExactlyPiimageV1() {
        String yaml = replace(BASE, "apiVersion: piimage/v1", "apiVersion: piimage/v2");
        assertThat(problems(yaml)).containsExactly("plan.yaml:1:13: error: apiVersion: must be 'piimage/v1', not 'piimage/v2'");
    }

    @Test
    void aStringWhereAListIsExpectedIsAnError() {
        String yaml = replace(BASE, "  sshAuthorizedKeys:\n    - ", "  sshAuthorizedKeys: ");
        assertThat(problems(yaml)).containsExactly(error(yaml, "ssh-ed25519",
                "os.sshAuthorizedKeys: must be a list ('- item' lines or [a, b]), not a single value"));
    }

    @Test
    void aListWhereASingleValueIsExpectedIsAnError() {
        String yaml = replace(BASE, "  name: lab", "  name: [lab]");
        assertThat(problems(yaml)).containsExactly(error(yaml, "[lab]", "cluster.name: must be a single value, not a list"));
    }

    @Test
    void aSectionThatIsNotAMappingIsAnError() {
        String yaml = replace(BASE, "network:\n  subnet: 192.168.3.0/24\n  gateway: 192.168.3.1\n", "network: 192.168.3.0/24\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "192.168.3.0/24", "network: must be a mapping (key: value lines), not a single value"));
    }

    @Test
    void aNodeThatIsNotAMappingIsAnError() {
        String yaml = BASE + "  - worker2\n";
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "worker2", "node #7: must be a mapping (name:, role:, address: ...), not a single value"));
    }

    @Test
    void aPortThatIsNotAWholeNumberIsAnError() {
        String yaml = replace(BASE, "port: 9000", "port: 9000x");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "9000x", "endpoint.port: must be a whole number from 1 to 65535, not '9000x'"));
    }

    @Test
    void aPortOutsideTheRangeIsAnError() {
        String yaml = replace(BASE, "port: 9000", "port: 70000");
        assertThat(problems(yaml)).containsExactly(error(yaml, "70000", "endpoint.port: 70000 is outside 1-65535"));
        String zero = replace(BASE, "port: 9000", "port: 0");
        assertThat(problems(zero)).containsExactly("plan.yaml:7:9: error: endpoint.port: 0 is outside 1-65535");
    }

    @Test
    void aRouterIdOutsideOneTo255IsAnError() {
        String yaml = replace(BASE, "  loadBalancer: dedicated\n", "  loadBalancer: dedicated\n  vrrp:\n    routerId: 256\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "256", "endpoint.vrrp.routerId: 256 is outside 1-255"));
    }

    @Test
    void aBooleanMustBeTrueOrFalse() {
        String yaml = replace(BASE, "  loadBalancer: dedicated\n", "  loadBalancer: dedicated\n  vrrp: {unicast: yes}\n");
        assertThat(problems(yaml)).containsExactly(error(yaml, "yes", "endpoint.vrrp.unicast: must be true or false, not 'yes'"));
    }

    @Test
    void aBadAddressGivesIpv4sReason() {
        String yaml = replace(BASE, "vip: 192.168.3.240", "vip: 192.168.3.300");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "192.168.3.300", "endpoint.vip: '192.168.3.300' is not an IPv4 address: 300 > 255"));
        String shortOne = replace(BASE, "gateway: 192.168.3.1", "gateway: 192.168.3");
        assertThat(problems(shortOne)).containsExactly(
                error(shortOne, "192.168.3\n", "network.gateway: '192.168.3' is not an IPv4 address (a.b.c.d)"));
    }

    @Test
    void aBadCidrGivesCidrsReason() {
        String hostBits = replace(BASE, "subnet: 192.168.3.0/24", "subnet: 192.168.3.7/24");
        assertThat(problems(hostBits)).containsExactly(error(hostBits, "192.168.3.7/24",
                "network.subnet: 192.168.3.7/24 has host bits set (network is 192.168.3.0/24)"));
        String noPrefix = replace(BASE, "  name: lab\n", "  name: lab\n  podSubnet: 10.244.0.0\n");
        assertThat(problems(noPrefix)).containsExactly(
                error(noPrefix, "10.244.0.0", "cluster.podSubnet: '10.244.0.0' is not a CIDR (a.b.c.d/n)"));
        String longPrefix = replace(BASE, "  name: lab\n", "  name: lab\n  serviceSubnet: 10.96.0.0/33\n");
        assertThat(problems(longPrefix)).containsExactly(
                error(longPrefix, "10.96.0.0/33", "cluster.serviceSubnet: prefix length 33 is outside 0-32"));
    }

    @Test
    void anUnknownChoiceListsTheChoicesAndSuggestsOne() {
        String yaml = replace(BASE, "  name: lab\n", "  name: lab\n  cni: flanel\n");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "flanel", "cluster.cni: 'flanel' is not one of flannel, calico, none; did you mean 'flannel'?"));
        String lb = replace(BASE, "loadBalancer: dedicated", "loadBalancer: Dedicated");
        assertThat(problems(lb)).containsExactly(error(lb, "Dedicated",
                "endpoint.loadBalancer: 'Dedicated' is not one of dedicated, stacked, vip-only; did you mean 'dedicated'?"));
    }

    @Test
    void theClusterNameMustBeADnsLabel() {
        String yaml = replace(BASE, "name: lab", "name: Lab_1");
        assertThat(problems(yaml)).containsExactly(error(yaml, "Lab_1", "cluster.name: 'Lab_1' is not a valid name: use lowercase"
                + " letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"));
        String tooLong = replace(BASE, "name: lab", "name: " + "a".repeat(64));
        assertThat(problems(tooLong)).hasSize(1).allMatch(p -> p.contains("is not a valid name"));
    }

    @Test
    void aNodeNameMustBeADnsLabel() {
        String yaml = replace(BASE, "name: worker1", "name: worker-");
        assertThat(problems(yaml)).containsExactly(error(yaml, "worker-", "node 'worker-' name: 'worker-' is not a valid name: use"
                + " lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"));
    }

    @Test
    void theKubernetesVersionIsReadAsTextSoAnUnquotedNumberKeepsItsDigits() throws Exception {
        String unquoted = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.31");
        assertThat(load(unquoted).plan().cluster().kubernetesVersion()).isEqualTo(new KubernetesVersion(1, 31, -1));
        String tooOld = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.30");
        assertThat(problems(tooOld)).containsExactly(error(tooOld, "1.30",
                "cluster.kubernetesVersion: 1.30 is too old; piimage needs 1.31 or newer (kubeadm config v1beta4)"));
        String pinned = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.32.4");
        assertThat(load(pinned).plan().cluster().kubernetesVersion()).isEqualTo(new KubernetesVersion(1, 32, 4));
    }

    @Test
    void aMalformedKubernetesVersionIsAnError() {
        String yaml = replace(BASE, "kubernetesVersion: \"1.31\"", "kubernetesVersion: v1.31");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "v1.31", "cluster.kubernetesVersion: 'v1.31' is not a Kubernetes version (1.31 or 1.31.4)"));
    }

    @Test
    void allProblemsAreReportedAtOnceInFileOrder() {
        String yaml = replace(replace(replace(BASE, "address: 192.168.3.231", "address: 192.168.3.999"),
                "port: 9000", "port: nine"), "name: lab", "name: LAB");
        assertThat(problems(yaml)).containsExactly(
                error(yaml, "LAB", "cluster.name: 'LAB' is not a valid name: use lowercase letters, digits and '-',"
                        + " starting and ending with a letter or digit, at most 63 characters"),
                error(yaml, "nine", "endpoint.port: must be a whole number from 1 to 65535, not 'nine'"),
                error(yaml, "192.168.3.999", "node 'worker1' address: '192.168.3.999' is not an IPv4 address: 999 > 255"));
    }

    @Test
    void loadNamesTheFileAsGivenAndRecordsTheSource(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("home.yaml");
        Files.writeString(file, replace(BASE, "port: 9000", "port: x"));
        InvalidPlanException e = org.assertj.core.api.Assertions.catchThrowableOfType(InvalidPlanException.class,
                () -> PlanLoader.load(file, PlanTexts.PROFILES));
        assertThat(e.diagnostics()).extracting(Diagnostic::format)
                .containsExactly(file + ":7:9: error: endpoint.port: must be a whole number from 1 to 65535, not 'x'");
        Files.writeString(file, BASE);
        assertThat(PlanLoader.load(file, PlanTexts.PROFILES).plan().source()).isEqualTo(file);
    }
}
