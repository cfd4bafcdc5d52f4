package io.piimage.plan;

/** An IPv4 address held as an unsigned 32-bit value; {@link #toString()} gives dotted quads. */
public record Ipv4(int bits) implements Comparable<Ipv4> {

    /** Parses a dotted-quad address; throws IllegalArgumentException with a user-facing reason. */
    public static Ipv4 parse(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address (a.b.c.d)");
        }
        int bits = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)
                    || (part.length() > 1 && part.charAt(0) == '0')) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address (a.b.c.d)");
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("'" + text + "' is not an IPv4 address: " + octet + " > 255");
            }
            bits = (bits << 8) | octet;
        }
        return new Ipv4(bits);
    }

    public long unsigned() {
        return Integer.toUnsignedLong(bits);
    }

    public Ipv4 plus(int offset) {
        return new Ipv4(bits + offset);
    }

    @Override
    public int compareTo(Ipv4 other) {
        return Integer.compareUnsigned(bits, other.bits);
    }

    // Written out: a record's own equals and hashCode are linked through method handles on first
    // use, a few milliseconds of every bake's start-up for one int.
    @Override
    public boolean equals(Object other) {
        return other instanceof Ipv4 address && address.bits == bits;
    }

    @Override
    public int hashCode() {
        return bits;
    }

    @Override
    public String toString() {
        return ((bits >>> 24) & 0xff) + "." + ((bits >>> 16) & 0xff) + "." + ((bits >>> 8) & 0xff) + "." + (bits & 0xff);
    }
}
