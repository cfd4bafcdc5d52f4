# Written by piimage for ${node.name}: every node of cluster ${cluster.name}, so nodes find each other
# by name without depending on the home router's DNS.
127.0.0.1 localhost
127.0.1.1 ${node.name}
::1 localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters

<#list nodes as n>
${n.address} ${n.name}
</#list>
