package io.piimage.plan;

import io.piimage.pki.KeyAlgorithm;

/** The plan's {@code cluster:} section, defaults filled. */
public record Cluster(
        String name,
        KubernetesVersion kubernetesVersion,
        Cidr podSubnet,
        Cidr serviceSubnet,
        String dnsDomain,
        Cni cni,
        KeyAlgorithm keyAlgorithm) {
}
