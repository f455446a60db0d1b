"""Scale-out: the processes of one layout (roles `gateway`, `api`, `scheduler`) on PostgreSQL and Redis.

`roles.start_role` wires a role; `link` is the Redis publish/subscribe between processes; `presence` the
gateways' claims and leases; `routing` commands sent to the gateway holding a charge point; `events` the
event bus across processes (a Redis stream each scheduler reads in its own consumer group); `replans`
replan-now sent to a scheduler; `shards` the sites a scheduler holds by lease. docs/scale-out.md says how
it fits together.
"""

from app.cluster.events import EventExport, EventImport
from app.cluster.link import RedisLink
from app.cluster.presence import GatewayPresence, LeaseKeeper
from app.cluster.replans import ReplanListener, RoutedReplans
from app.cluster.routing import GatewayListener, RoutedCommands
from app.cluster.shards import SiteShards

__all__ = [
    "EventExport",
    "EventImport",
    "GatewayListener",
    "GatewayPresence",
    "LeaseKeeper",
    "RedisLink",
    "ReplanListener",
    "RoutedCommands",
    "RoutedReplans",
    "SiteShards",
]
