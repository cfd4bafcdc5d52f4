# Netplan v2 for ${node.name}; cloud-init renders it (${profile.networkRenderer} on ${profile.name}).
<#-- A plan's eth1, eth2... is a USB Ethernet adapter. Where the image names USB adapters enx<MAC>
     (systemd's 73-usb-net-by-mac), netplan matches it and renames it to the plan's name: udev applies
     the rename when the adapter appears, so from the second boot on; on the first boot phase
     05-interfaces applies it (udev re-trigger, else one reboot). One USB adapter per Pi. -->
<#macro ethernet name>
    ${name}:
<#if profile.usbNicsNamedByMac() && name?matches("eth[1-9][0-9]*")>
      # USB Ethernet adapter: ${profile.name} names it enx<MAC>; renamed to ${name}.
      match:
        name: "enx*"
      set-name: ${name}
      # On the first boot it is still enx<MAC> until 05-interfaces applies the rename, after
      # network-online: waiting for ${name} there failed systemd-networkd-wait-online after 2 min.
      # 05-interfaces waits for the adapter instead (and 30-gateway for the uplink's address).
      optional: true
</#if>
</#macro>
network:
  version: 2
  ethernets:
<#if node.role.key() == "gateway">
    # Home-LAN side: address, route and DNS from the home router's DHCP. The gateway serves the
    # cluster only once it has its uplink: network-online waits for it (unless it is a USB adapter
    # renamed on the first boot, see below), and 30-gateway waits for its address either way.
<@ethernet node.uplink/>
      dhcp4: true
    # Cluster side: this Pi is the cluster's default gateway.
<@ethernet nodeInterface/>
      dhcp4: false
      addresses: [${node.address}/${network.subnet.prefix}]
<#else>
<@ethernet nodeInterface/>
      dhcp4: false
      dhcp6: false
      addresses: [${node.address}/${network.subnet.prefix}]
      routes:
        - to: 0.0.0.0/0
          via: ${network.gateway}
      nameservers:
        addresses: [<#list network.dns as server>${server}<#sep>, </#list>]
<#if network.searchDomains?has_content>
        search: [<#list network.searchDomains as domain>${q(domain)}<#sep>, </#list>]
</#if>
</#if>
