"""The scale-out roles, wired on PostgreSQL and Redis (`SMARTCHARGE_ROLE`; docs/scale-out.md).

* `gateway`: the OCPP server; claims the charge points it holds (`GatewayPresence`) under a lease it renews,
  runs the commands routed to it and closes connections another gateway took over; sends its events out.
* `api`: the HTTP API and console; commands go to the holding gateway (`RoutedCommands`); sends its
  events (forecasts, overrides, ...) out.
* `scheduler`: planning and dispatch of the sites it holds by lease (`SiteShards`: several schedulers share
  the sites, one plans each); reads every process's events from the events stream (and what it missed while
  it was down), replans its sites when it starts; profiles go out as routed commands; plans a site it holds
  now when an API process asks (`replans`); keeps the stored meter values (`MeterValueUpkeep`: partitions
  made ahead, the retention).

Every role reaps the claims of gateways whose lease expired (their charge points become disconnected).
"""

import os
import socket
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from fastapi import FastAPI

from app.cluster.events import EventExport, EventImport
from app.cluster.link import RedisLink
from app.cluster.presence import GatewayPresence, LeaseKeeper
from app.cluster.replans import ReplanListener, RoutedReplans
from app.cluster.routing import GatewayListener, RoutedCommands
from app.cluster.shards import SiteShards
from app.db.presence import SqlPresence
from app.db.retention import MeterValueUpkeep
from app.db.site_leases import SqlSiteLeases
from app.db.store import SqlStore
from app.domain.bus import EventBus
from app.domain.ports import ChargePointCommands, Clock, SiteShard
from app.metrics import PrometheusMetrics
from app.services.ocpp import charge_points
from app.services.planning.scheduler import Scheduler
from app.settings import ProcessRole, Settings
from ocpp_gateway.server import OcppServer


@dataclass(frozen=True)
class GatewayAddress:
    """Where charge points connect, for an API process's pages (the gateways are elsewhere)."""

    port: int


def process_id(settings: Settings) -> str:
    if settings.gateway_id and settings.role == ProcessRole.gateway:
        return settings.gateway_id
    return f"{settings.role.value}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def start_role(
    app: FastAPI,
    stack: AsyncExitStack,
    settings: Settings,
    store: SqlStore,
    events: EventBus,
    clock: Clock,
    metrics: PrometheusMetrics,
    build_scheduler: Callable[[ChargePointCommands, SiteShard], Scheduler],
) -> None:
    assert settings.redis_url is not None  # Settings.scale_out_problem says so
    link = RedisLink(settings.redis_url, settings.redis_prefix)
    directory = SqlPresence(store.database)
    me = process_id(settings)
    app.state.process_id = me
    app.state.presence = directory
    app.state.ready_checks["redis"] = link.ping

    async def lost(charge_point_ids: list[str]) -> None:
        await charge_points.holders_lost(store, charge_point_ids, clock.now())

    if settings.role == ProcessRole.gateway:
        presence = GatewayPresence(directory, link, me, lease_s=settings.presence_lease_s)
        gateway = OcppServer(settings, store, bus=events, clock=clock, presence=presence, metrics=metrics)
        GatewayListener(link, me, gateway.commands, gateway.close_replaced)
        export = EventExport(link, events, max_len=settings.event_stream_max_len)
        await link.start()
        stack.push_async_callback(link.close)
        stack.push_async_callback(export.close)
        keeper = LeaseKeeper(
            directory,
            lease_s=settings.presence_lease_s,
            on_lost=lost,
            gateway=(me, gateway.held_connections),
            reclaimed=gateway.held_again,
        )
        left = await presence.leave()  # claims of an earlier run under this id hold nothing now
        if left:
            await lost(left)
        await keeper.start()  # the lease first: claims count only while it runs
        stack.push_async_callback(presence.leave)
        stack.push_async_callback(keeper.stop)
        await gateway.start()
        stack.push_async_callback(gateway.stop)
        metrics.track_connections(gateway.registry.__len__)
        app.state.gateway = gateway
        app.state.commands = gateway.commands
        app.state.scheduler = None
        app.state.ready_checks["ocpp"] = gateway.check_listening
        return

    commands = RoutedCommands(
        link, directory, process_id=me, route_timeout_s=settings.command_route_timeout_s
    )
    if settings.role == ProcessRole.scheduler:

        def taken(site_ids: set[int]) -> None:
            for site_id in sorted(site_ids):
                scheduler.request(site_id, "site lease taken")

        # the scheduler's name: its consumer group on the events stream and its name in the site leases
        leases = SqlSiteLeases(store.database)
        shard = SiteShards(leases, settings.scheduler_name, lease_s=settings.site_lease_s, on_gained=taken)
        scheduler = build_scheduler(commands, shard)
        ReplanListener(link, scheduler, owns=scheduler.owns)
        imports = EventImport(link, events, group=settings.scheduler_name)
    else:
        export = EventExport(link, events, max_len=settings.event_stream_max_len)
        stack.push_async_callback(export.close)
        app.state.replanner = RoutedReplans(
            link,
            process_id=me,
            route_timeout_s=settings.command_route_timeout_s,
            replan_timeout_s=replan_timeout_s(settings),
        )
    await link.start()
    stack.push_async_callback(link.close)
    keeper = LeaseKeeper(directory, lease_s=settings.presence_lease_s, on_lost=lost, after=commands.refresh)
    await keeper.start()
    stack.push_async_callback(keeper.stop)
    metrics.track_connections(lambda: len(commands.connected_ids()))
    app.state.commands = commands
    app.state.gateway = GatewayAddress(settings.ocpp_port)
    app.state.scheduler = None
    if settings.role == ProcessRole.scheduler:
        upkeep = MeterValueUpkeep(store.database, clock, settings.meter_value_retention_days)
        await upkeep.start()
        stack.push_async_callback(upkeep.stop)
        if settings.scheduler_enabled:
            await scheduler.start()
            await shard.start()
            stack.push_async_callback(shard.stop)  # after the scheduler's stop: no plan runs when it leaves
        stack.push_async_callback(scheduler.stop)
        app.state.scheduler = app.state.replanner = scheduler
        app.state.shard = shard
        await imports.start()  # what was published while this scheduler was down first
        stack.push_async_callback(imports.stop)
        if settings.scheduler_enabled:
            await scheduler.request_all("scheduler start")


def replan_timeout_s(settings: Settings) -> float:
    """How long a routed replan may take: the solve, a profile's answer and its read-back, and the route."""
    return (
        settings.scheduler_solve_time_limit_s
        + 2 * settings.ocpp_call_timeout_s
        + 2 * settings.command_route_timeout_s
    )
