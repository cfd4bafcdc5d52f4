# Netplan v2 for ${node.name}; cloud-init renders it (${profile.networkRenderer} on ${profile.name}).
network:
  version: 2
  ethernets:
<#if node.role.key() == "gateway">
    # Home-LAN side: address, route and DNS from the home router's DHCP.
    ${node.uplink}:
      dhcp4: true
      optional: true
    # Cluster side: this Pi is the cluster's default gateway.
    ${nodeInterface}:
      dhcp4: false
      addresses: [${node.address}/${network.subnet.prefix}]
<#else>
    ${nodeInterface}:
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
