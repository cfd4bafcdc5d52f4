package io.piimage.plan;

/** An IPv4 network in CIDR notation; the address is always the network address. */
public record Cidr(Ipv4 network, int prefix) {

    public Cidr {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix length " + prefix + " is outside 0-32");
        }
        if ((network.bits() & ~mask(prefix)) != 0) {
            throw new IllegalArgumentException(network + "/" + prefix + " has host bits set (network is "
                    + new Ipv4(network.bits() & mask(prefix)) + "/" + prefix + ")");
        }
    }

    /** Parses "a.b.c.d/n"; host bits set is an error, as a typo there usually means a wrong prefix. */
    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR (a.b.c.d/n)");
        }
        String prefixText = text.substring(slash + 1);
        if (prefixText.isEmpty() || prefixText.length() > 2 || !prefixText.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR (a.b.c.d/n)");
        }
        return new Cidr(Ipv4.parse(text.substring(0, slash)), Integer.parseInt(prefixText));
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public boolean contains(Ipv4 address) {
        return (address.bits() & mask(prefix)) == network.bits();
    }

    public Ipv4 broadcast() {
        return new Ipv4(network.bits() | ~mask(prefix));
    }

    public boolean overlaps(Cidr other) {
        int shorter = Math.min(prefix, other.prefix);
        return (network.bits() & mask(shorter)) == (other.network.bits() & mask(shorter));
    }

    @Override
    public String toString() {
        return network + "/" + prefix;
    }
}
