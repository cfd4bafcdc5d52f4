package io.piimage.plan;

import java.util.List;

/** The plan's {@code network:} section, defaults filled. */
public record Network(Cidr subnet, Ipv4 gateway, List<Ipv4> dns, List<String> searchDomains, String interfaceName) {

    public Network {
        dns = List.copyOf(dns);
        searchDomains = List.copyOf(searchDomains);
    }
}
