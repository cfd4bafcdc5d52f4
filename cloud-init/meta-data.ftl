instance-id: ${instanceId}
local-hostname: ${node.name}
