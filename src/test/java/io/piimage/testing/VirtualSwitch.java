package io.piimage.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An Ethernet hub for QEMU VMs, on 127.0.0.1 only: every VM NIC sends its frames as UDP datagrams to the
 * hub ({@code -netdev socket,udp=...,localaddr=...}), which repeats each frame to every other attached
 * port. Unlike QEMU's point-to-point TCP socket cable it joins any number of VMs, and a VM that is killed
 * and started again on the same port is simply back on the LAN, as a Pi plugged into a switch is.
 */
public final class VirtualSwitch implements AutoCloseable {

    private final DatagramChannel channel;
    private final List<InetSocketAddress> ports = new CopyOnWriteArrayList<>();
    private final Thread repeater;

    public VirtualSwitch() throws IOException {
        channel = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        repeater = new Thread(this::repeat, "virtual-switch-" + port());
        repeater.setDaemon(true);
        repeater.start();
    }

    /** The hub's own UDP port, where VM NICs send. */
    public int port() {
        try {
            return ((InetSocketAddress) channel.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new port on the hub: the loopback UDP port a VM NIC must use as its {@code localaddr}. */
    public int attach() throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            InetSocketAddress address = (InetSocketAddress) probe.getLocalAddress();
            ports.add(address);
            return address.getPort();
        }
    }

    private void repeat() {
        ByteBuffer frame = ByteBuffer.allocate(65536);
        try {
            while (true) {
                frame.clear();
                SocketAddress from = channel.receive(frame);
                frame.flip();
                for (InetSocketAddress to : ports) {
                    if (!to.equals(from)) {
                        channel.send(frame.duplicate(), to);
                    }
                }
            }
        } catch (ClosedChannelException e) {
            // closed: the test is over
        } catch (IOException e) {
            throw new IllegalStateException("virtual switch stopped", e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
