"""RateBudget: slow down before the API's rate limit is spent, not after its 429.

Against the sandbox CRM with a budget of a few requests per short window: the
client must receive no 429 at all, and must have waited for the window. No
timing threshold: what is asserted is what the server counted and that waits
happened, not how long they took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from apinotebook import Bearer, Exchange, History, Request, RestClient
from apinotebook.rest import RateBudget, RateLimitExhausted
from apinotebook.sandbox import Sandbox

BUDGET = 4


@pytest.fixture(scope="module")
def crm() -> Iterator[Sandbox]:
    faults = {"crm": {"budget": BUDGET, "budget_window": 1}}
    box = Sandbox(services=("crm",), contacts=30, companies=2, faults=faults).start()
    yield box
    box.stop()


@pytest.fixture
def api(crm: Sandbox) -> Iterator[tuple[RestClient, RateBudget, list[float]]]:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    budget = RateBudget(sleep=sleep)
    client = RestClient(
        crm.urls["crm"],
        auth=Bearer(crm.env["CRM_TOKEN"]),
        history=History(),
        rate_budget=budget,
        conditional=False,
        retry=False,  # a 429 would surface, not be retried away
    )
    # the window may be half spent by the test before: the first request probes it
    yield client, budget, slept
    client.close()


def _statuses(client: RestClient) -> list[int]:
    assert client.history is not None
    return [ex.status for ex in client.history]


def test_the_sandbox_reports_its_budget_and_refuses_past_it(crm):
    token = crm.env["CRM_READONLY_TOKEN"]  # a credential of its own
    with httpx.Client(
        base_url=crm.urls["crm"], headers={"Authorization": f"Bearer {token}"}
    ) as raw:
        answers = [raw.get("/contacts/c_000001") for _ in range(BUDGET + 1)]
    assert [r.headers.get("ratelimit-remaining") for r in answers[:BUDGET]] == ["3", "2", "1", "0"]
    assert answers[0].headers["ratelimit-limit"] == str(BUDGET)
    assert answers[0].headers["ratelimit-policy"] == f"{BUDGET};w=1"
    assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) >= 1


def test_paginate_waits_for_the_window_instead_of_getting_429(api):
    client, budget, slept = api
    rows = list(client.paginate("/contacts", params={"limit": 3}))
    assert len(rows) == 30
    statuses = _statuses(client)
    assert len(statuses) > BUDGET and set(statuses) == {200}
    assert budget.pauses >= 1 and slept and all(s > 0 for s in slept)


def test_gather_from_many_threads_never_overshoots(api):
    client, budget, _ = api
    results = client.gather([("GET", f"/contacts/c_{i:06d}") for i in range(1, 13)], concurrency=6)
    assert [r.status for r in results if isinstance(r, Exchange)] == [200] * 12
    assert set(_statuses(client)) == {200} and budget.pauses >= 1


def test_agather_waits_too(api):
    client, budget, _ = api
    calls = [("GET", f"/contacts/c_{i:06d}") for i in range(1, 10)]

    async def run() -> list[Exchange | BaseException]:
        try:
            return await client.agather(calls, concurrency=3)
        finally:
            await client.aclose()

    results = asyncio.run(run())
    assert [r.status for r in results if isinstance(r, Exchange)] == [200] * 9
    assert set(_statuses(client)) == {200} and budget.pauses >= 1


# -- the budget on its own, with an injected clock -----------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _answer(remaining: int, reset: int, *, status: int = 200, limit: int = 5) -> Exchange:
    headers = {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
    }
    if status == 429:
        headers["Retry-After"] = str(reset)
    return Exchange(
        protocol="rest", request=Request("GET", "https://api.example/x"), status=status,
        headers=headers,
    )  # fmt: skip


def test_the_budget_waits_exactly_until_the_reported_reset():
    clock = Clock()
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(_answer(remaining=1, reset=30))
    budget.wait()  # the last one of the window
    budget.observe(_answer(remaining=0, reset=29))
    assert budget.pauses == 0
    budget.wait()
    assert budget.pauses == 1 and clock.now == pytest.approx(129.0)
    assert budget.remaining == 4  # a new window of the known size, one spent


def test_a_reserve_is_left_unspent():
    clock = Clock()
    budget = RateBudget(reserve=2, clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(_answer(remaining=2, reset=10))
    budget.wait()
    assert budget.pauses == 1 and clock.now == pytest.approx(110.0)


def test_a_429_with_retry_after_sets_the_wait():
    clock = Clock()
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(_answer(remaining=0, reset=7, status=429))
    budget.wait()
    assert clock.now == pytest.approx(107.0)


def test_a_reset_beyond_max_wait_raises_a_clear_error():
    clock = Clock()
    budget = RateBudget(max_wait=60, clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(_answer(remaining=0, reset=3600))
    with pytest.raises(RateLimitExhausted, match="resets in 3600 s.*max_wait"):
        budget.wait()


def test_answers_crossing_in_flight_never_raise_the_estimate():
    clock = Clock()
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(_answer(remaining=4, reset=30))
    for _ in range(3):
        budget.wait()
    assert budget.remaining == 1
    budget.observe(_answer(remaining=1, reset=30))  # the last answer arrives first
    budget.observe(_answer(remaining=3, reset=30))  # an earlier one, late
    assert budget.remaining == 1


def test_the_first_request_probes_before_others_follow():
    clock = Clock()
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    assert budget.delay() == 0.0
    assert budget.delay() > 0  # nothing known yet, one in flight: wait for its answer
    budget.observe(_answer(remaining=3, reset=30))
    assert budget.delay() == 0.0


def test_an_api_without_rate_limit_headers_is_not_slowed():
    clock = Clock()
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    budget.wait()
    budget.observe(
        Exchange(protocol="rest", request=Request("GET", "https://a.example/"), status=200)
    )
    assert [budget.delay() for _ in range(5)] == [0.0] * 5


@pytest.mark.parametrize("value", ["yes", 3])
def test_rate_budget_argument_is_checked(value):
    from apinotebook import ConfigError

    with pytest.raises(ConfigError, match="rate_budget= takes"):
        RestClient("https://api.example", rate_budget=value)
