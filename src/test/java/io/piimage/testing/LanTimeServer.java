package io.piimage.testing;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An NTP server on a {@link VirtualSwitch}, as a home router or NAS that serves the time is on a home
 * LAN: one IPv4 address and MAC on the hub; it answers ARP for its address and NTP client requests
 * (UDP port 123) with this machine's clock, stratum 1. Nothing else: other frames are ignored. It
 * lives entirely in the test's process, on 127.0.0.1, like the hub.
 */
public final class LanTimeServer implements AutoCloseable {

    private static final int ETH_HEADER = 14;
    private static final int ARP = 0x0806;
    private static final int IPV4 = 0x0800;
    private static final int UDP = 17;
    private static final int NTP_PORT = 123;
    private static final int NTP_LENGTH = 48;
    /** Seconds from 1900 (NTP's era 0) to 1970. */
    private static final long NTP_UNIX_OFFSET = 2_208_988_800L;

    private final byte[] ip;
    private final byte[] mac;
    private final DatagramChannel channel;
    private final InetSocketAddress hub;
    private final List<String> clients = new CopyOnWriteArrayList<>();
    private final Thread thread;

    /** Plugs the server into {@code hub} with address {@code ip} and MAC {@code mac}, and starts it. */
    public LanTimeServer(VirtualSwitch hub, String ip, String mac) throws IOException {
        this.ip = InetAddress.getByName(ip).getAddress();
        if (this.ip.length != 4 || !(InetAddress.getByAddress(this.ip) instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: " + ip);
        }
        this.mac = HexFormat.ofDelimiter(":").parseHex(mac);
        this.hub = new InetSocketAddress(InetAddress.getLoopbackAddress(), hub.port());
        channel = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), hub.attach()));
        thread = new Thread(this::serve, "lan-time-server-" + ip);
        thread.setDaemon(true);
        thread.start();
    }

    /** The IPv4 addresses that got a time answer, one entry per answer, in order. */
    public List<String> answered() {
        return List.copyOf(clients);
    }

    private void serve() {
        ByteBuffer in = ByteBuffer.allocate(65536);
        try {
            while (true) {
                in.clear();
                channel.receive(in);
                in.flip();
                byte[] frame = new byte[in.remaining()];
                in.get(frame);
                byte[] reply = answer(frame, Instant.now());
                if (reply != null) {
                    channel.send(ByteBuffer.wrap(reply), hub);
                }
            }
        } catch (ClosedChannelException e) {
            // closed: the test is over
        } catch (IOException e) {
            throw new IllegalStateException("time server stopped", e);
        }
    }

    /** The frame to send back for {@code frame} (an ARP reply or an NTP answer), or null. */
    byte[] answer(byte[] frame, Instant now) {
        if (frame.length < ETH_HEADER + 28) {
            return null;
        }
        int type = u16(frame, 12);
        if (type == ARP) {
            return arpReply(frame);
        }
        if (type == IPV4) {
            return ntpReply(frame, now);
        }
        return null;
    }

    private byte[] arpReply(byte[] f) {
        int a = ETH_HEADER;
        // Ethernet/IPv4 request (op 1) for our address.
        if (u16(f, a) != 1 || u16(f, a + 2) != IPV4 || f[a + 4] != 6 || f[a + 5] != 4 || u16(f, a + 6) != 1
                || !same(f, a + 24, ip)) {
            return null;
        }
        byte[] r = new byte[60]; // the minimum Ethernet frame, zero padded
        System.arraycopy(f, 6, r, 0, 6);
        System.arraycopy(mac, 0, r, 6, 6);
        put16(r, 12, ARP);
        put16(r, a, 1);
        put16(r, a + 2, IPV4);
        r[a + 4] = 6;
        r[a + 5] = 4;
        put16(r, a + 6, 2);
        System.arraycopy(mac, 0, r, a + 8, 6);
        System.arraycopy(ip, 0, r, a + 14, 4);
        System.arraycopy(f, a + 8, r, a + 18, 10); // the asker's MAC and address
        return r;
    }

    private byte[] ntpReply(byte[] f, Instant now) {
        int ipStart = ETH_HEADER;
        int ihl = (f[ipStart] & 0x0f) * 4;
        if ((f[ipStart] & 0xf0) != 0x40 || f[ipStart + 9] != UDP || !same(f, ipStart + 16, ip)
                || !same(f, 0, mac) || (u16(f, ipStart + 6) & 0x3fff) != 0) { // no fragments
            return null;
        }
        int udp = ipStart + ihl;
        int ntp = udp + 8;
        if (f.length < ntp + NTP_LENGTH || u16(f, udp + 2) != NTP_PORT) {
            return null;
        }
        int mode = f[ntp] & 0x07;
        int version = (f[ntp] >> 3) & 0x07;
        if (mode != 3 || version < 1) { // client requests only
            return null;
        }
        byte[] r = new byte[ETH_HEADER + 20 + 8 + NTP_LENGTH];
        System.arraycopy(f, 6, r, 0, 6);
        System.arraycopy(mac, 0, r, 6, 6);
        put16(r, 12, IPV4);
        int i = ETH_HEADER;
        r[i] = 0x45;
        put16(r, i + 2, 20 + 8 + NTP_LENGTH);
        put16(r, i + 6, 0x4000); // don't fragment
        r[i + 8] = 64;
        r[i + 9] = UDP;
        System.arraycopy(ip, 0, r, i + 12, 4);
        System.arraycopy(f, ipStart + 12, r, i + 16, 4);
        put16(r, i + 10, checksum(r, i, 20));
        int u = i + 20;
        put16(r, u, NTP_PORT);
        System.arraycopy(f, udp, r, u + 2, 2); // the client's port
        put16(r, u + 4, 8 + NTP_LENGTH);
        // UDP checksum 0: none, which IPv4 allows.
        int n = u + 8;
        r[n] = (byte) ((version << 3) | 4); // leap 0 (synchronised), the client's version, mode 4 (server)
        r[n + 1] = 1; // stratum 1: a reference clock
        r[n + 2] = f[ntp + 2]; // the client's poll interval
        r[n + 3] = (byte) -20; // precision about a microsecond
        // root delay and root dispersion 0; reference id "LOCL"
        r[n + 12] = 'L';
        r[n + 13] = 'O';
        r[n + 14] = 'C';
        r[n + 15] = 'L';
        timestamp(r, n + 16, now); // reference
        System.arraycopy(f, ntp + 40, r, n + 24, 8); // origin: the client's transmit time, verbatim
        timestamp(r, n + 32, now); // receive
        timestamp(r, n + 40, now); // transmit
        clients.add((f[ipStart + 12] & 0xff) + "." + (f[ipStart + 13] & 0xff) + "." + (f[ipStart + 14] & 0xff) + "."
                + (f[ipStart + 15] & 0xff));
        return r;
    }

    private static void timestamp(byte[] b, int at, Instant t) {
        long seconds = t.getEpochSecond() + NTP_UNIX_OFFSET;
        long fraction = ((long) t.getNano() << 32) / 1_000_000_000L;
        for (int k = 0; k < 4; k++) {
            b[at + k] = (byte) (seconds >>> (24 - 8 * k));
            b[at + 4 + k] = (byte) (fraction >>> (24 - 8 * k));
        }
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes; 0 over a header that holds its own. */
    static int checksum(byte[] b, int from, int length) {
        long sum = 0;
        for (int k = from; k < from + length; k += 2) {
            sum += u16(b, k);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static boolean same(byte[] b, int at, byte[] want) {
        for (int k = 0; k < want.length; k++) {
            if (b[at + k] != want[k]) {
                return false;
            }
        }
        return true;
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
