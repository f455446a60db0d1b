"""Replan-now on an `api` process: the scheduler process plans the site and the revision comes back; nobody
to plan, or nobody answering in time, is a 503 problem."""

import pytest

from app.cluster.link import RedisLink
from app.cluster.replans import scheduler_channel
from tests.scale.helpers import Layout
from tests.scale.test_events import new_site

pytestmark = pytest.mark.anyio


async def test_replan_now_on_an_api_process_is_planned_by_the_scheduler_process(layout: Layout) -> None:
    api = await layout.start("api")
    site_id = await new_site(api)
    replan = f"/api/v1/sites/{site_id}/schedule/replan"

    nobody = await api.http.post(replan)
    assert nobody.status_code == 503, nobody.text
    assert nobody.headers["content-type"] == "application/problem+json"
    assert nobody.json()["detail"] == "no scheduler process listens (role scheduler): nothing can plan now"

    silent = RedisLink(layout.redis_url, layout.prefix)  # listens on the schedulers' channel, never answers
    silent.on(scheduler_channel(silent), lambda message: None)
    await silent.start()
    try:
        unanswered = await api.http.post(replan)
    finally:
        await silent.close()
    assert unanswered.status_code == 503, unanswered.text
    assert unanswered.json()["detail"] == "no scheduler process answered in 2 s"

    await layout.start("scheduler")
    planned = await api.http.post(replan)
    assert planned.status_code == 201, planned.text
    revision_id = planned.json()["revision_id"]
    revision = await api.http.get(f"/api/v1/sites/{site_id}/schedule/revisions/{revision_id}")
    assert revision.status_code == 200
    assert revision.json()["revision"]["trigger"] == "operator request"

    missing = await api.http.post("/api/v1/sites/999999/schedule/replan")
    assert missing.status_code == 404  # checked where the request came in, as in one process
