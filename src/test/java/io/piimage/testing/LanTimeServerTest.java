package io.piimage.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The rehearsal's LAN time server, frame by frame through a real {@link VirtualSwitch}: it answers ARP
 * for its address only, and NTP client requests with a server answer that systemd-timesyncd accepts
 * (leap not "unsynchronised", mode 4, stratum 1, zero root distance, the client's transmit time echoed
 * as origin, a valid IPv4 header checksum), and ignores everything else.
 */
class LanTimeServerTest {

    static final byte[] CLIENT_MAC = HexFormat.ofDelimiter(":").parseHex("52:54:00:00:00:15");
    static final byte[] SERVER_MAC = HexFormat.ofDelimiter(":").parseHex("52:54:00:00:01:23");
    static final byte[] CLIENT_IP = {10, 0, 2, 15};
    static final byte[] SERVER_IP = {10, 0, 2, 123};

    @Test
    void answersArpAndNtpForItsAddressThroughTheSwitchAndNothingElse() throws Exception {
        try (VirtualSwitch hub = new VirtualSwitch();
             LanTimeServer server = new LanTimeServer(hub, "10.0.2.123", "52:54:00:00:01:23");
             DatagramChannel client = DatagramChannel.open()
                     .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), hub.attach()))) {
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), hub.port());

            client.send(ByteBuffer.wrap(arpRequest(new byte[] {10, 0, 2, 99})), to); // someone else's
            client.send(ByteBuffer.wrap(arpRequest(SERVER_IP)), to);
            byte[] arp = receive(client);
            assertThat(LanTimeServer.u16(arp, 12)).as("ethertype").isEqualTo(0x0806);
            assertThat(LanTimeServer.u16(arp, 20)).as("ARP reply").isEqualTo(2);
            assertThat(Arrays.copyOfRange(arp, 22, 28)).isEqualTo(SERVER_MAC);
            assertThat(Arrays.copyOfRange(arp, 28, 32)).isEqualTo(SERVER_IP);
            assertThat(Arrays.copyOfRange(arp, 0, 6)).isEqualTo(CLIENT_MAC);
            assertThat(Arrays.copyOfRange(arp, 38, 42)).isEqualTo(CLIENT_IP);

            byte[] transmit = {(byte) 0xeb, 0x1b, 0x2c, 0x3d, 0x00, 0x01, 0x02, 0x03};
            client.send(ByteBuffer.wrap(ntpRequest(SERVER_IP, 4, 3, transmit)), to);
            client.send(ByteBuffer.wrap(ntpRequest(SERVER_IP, 4, 4, transmit)), to); // a server's packet: ignored
            Instant before = Instant.now();
            byte[] ntp = receive(client);
            assertThat(LanTimeServer.u16(ntp, 12)).isEqualTo(0x0800);
            assertThat(LanTimeServer.checksum(ntp, 14, 20)).as("IPv4 header checksum").isZero();
            assertThat(Arrays.copyOfRange(ntp, 26, 30)).isEqualTo(SERVER_IP);
            assertThat(Arrays.copyOfRange(ntp, 30, 34)).isEqualTo(CLIENT_IP);
            assertThat(LanTimeServer.u16(ntp, 34)).as("source port").isEqualTo(123);
            assertThat(LanTimeServer.u16(ntp, 36)).as("the client's port").isEqualTo(40123);
            int n = 42;
            assertThat(ntp.length).isEqualTo(n + 48);
            assertThat(ntp[n] & 0xff).as("leap 0, version 4, mode 4").isEqualTo(0x24);
            assertThat(ntp[n + 1]).as("stratum").isEqualTo((byte) 1);
            assertThat(Arrays.copyOfRange(ntp, n + 4, n + 12)).as("root delay and dispersion").containsOnly(0);
            assertThat(Arrays.copyOfRange(ntp, n + 24, n + 32)).as("origin = the client's transmit").isEqualTo(transmit);
            long serverSeconds = (ByteBuffer.wrap(ntp, n + 40, 4).getInt() & 0xffffffffL) - 2_208_988_800L;
            assertThat(Duration.ofSeconds(Math.abs(serverSeconds - before.getEpochSecond())))
                    .isLessThanOrEqualTo(Duration.ofSeconds(2));
            assertThat(server.answered()).containsExactly("10.0.2.15");

            client.send(ByteBuffer.wrap(ntpRequest(new byte[] {10, 0, 2, 124}, 4, 3, transmit)), to); // not for it
            client.configureBlocking(false);
            Thread.sleep(300);
            assertThat(client.receive(ByteBuffer.allocate(2048))).as("no answer for another address").isNull();
            assertThat(server.answered()).hasSize(1);
        }
    }

    private static byte[] receive(DatagramChannel channel) throws Exception {
        ByteBuffer in = ByteBuffer.allocate(2048);
        channel.receive(in);
        in.flip();
        byte[] b = new byte[in.remaining()];
        in.get(b);
        return b;
    }

    private static byte[] arpRequest(byte[] target) {
        ByteBuffer f = ByteBuffer.allocate(60);
        f.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(CLIENT_MAC).putShort((short) 0x0806);
        f.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        f.put(CLIENT_MAC).put(CLIENT_IP).put(new byte[6]).put(target);
        return f.array();
    }

    private static byte[] ntpRequest(byte[] to, int version, int mode, byte[] transmit) {
        ByteBuffer f = ByteBuffer.allocate(14 + 20 + 8 + 48);
        f.put(SERVER_MAC).put(CLIENT_MAC).putShort((short) 0x0800);
        f.put((byte) 0x45).put((byte) 0).putShort((short) 76).putShort((short) 7).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(CLIENT_IP).put(to);
        f.putShort((short) 40123).putShort((short) 123).putShort((short) 56).putShort((short) 0);
        f.put((byte) ((version << 3) | mode)).put(new byte[39]).put(transmit);
        return f.array();
    }
}
