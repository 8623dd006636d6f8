"""``/api/v1/rollouts``: create, list, read, pause, resume and abort fleet rollouts (admins).

Thin: :mod:`storeplane.services.rollouts` does the work. A member is refused by the router's
dependency before the body is looked at, with the answer of a path that does not exist (404),
as on the accounts API. The rollout driver (``reconciler/rollouts.py``) moves the stores.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from storeplane.api.deps import CurrentUserDep, RepositoryDep, RolloutsDep, SettingsDep
from storeplane.api.rollout_schemas import RolloutCreate, RolloutPublic, RolloutsPublic
from storeplane.api.routing import ApiRoute
from storeplane.domain.errors import AdminOnlyError
from storeplane.domain.rollouts import Selector
from storeplane.domain.users import User
from storeplane.services import rollouts as service


async def _admins_only(user: CurrentUserDep) -> User:
    if not user.is_admin:
        raise AdminOnlyError()
    return user


router = APIRouter(
    prefix="/api/v1/rollouts",
    tags=["rollouts"],
    route_class=ApiRoute,
    dependencies=[Depends(_admins_only)],
)

RolloutId = Annotated[
    str, Path(max_length=32, description="The rollout's id, e.g. `rollout-3k9x2m7q`.")
]
_ADMINS = "Admins only: for a member every path here answers 404, as a path that does not exist."
_NOT_FOUND = "No rollout has this id (or you are not an admin)."


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"description": text} for code, text in codes.items()}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RolloutPublic,
    summary="Start a rollout",
    description=(
        "Takes `to_version` across the live stores of `engine` the selector matches, in "
        "waves. Checked up front: the version is in the catalogue, every selected store may "
        "upgrade to it (a 422 names those that cannot, with what they may move to), no "
        "selected store is in another unfinished rollout (409). The waves are fixed now; a "
        "store already at the version counts as done. The rollout starts at once (`Running`) "
        "and halts by itself when more than `max_failures` stores fail. " + _ADMINS
    ),
    responses=_problems(
        e404="You are not an admin.",
        e409="A selected store is in another rollout that has not ended.",
        e422="The body is invalid, the selector matches nothing, or stores cannot upgrade.",
    ),
)
def create_rollout(
    body: RolloutCreate,
    response: Response,
    repo: RepositoryDep,
    rollouts: RolloutsDep,
    settings: SettingsDep,
    user: CurrentUserDep,
) -> RolloutPublic:
    request = service.RolloutRequest(
        engine=body.engine,
        to_version=body.to_version,
        selector=Selector(
            labels=body.selector.labels,
            plans=tuple(body.selector.plans),
            names=tuple(body.selector.names),
        ),
        waves=tuple(body.waves),
        max_failures=body.max_failures,
        gate=body.gate,
    )
    rollout = service.create_rollout(repo, rollouts, request, settings, user)
    response.headers["Location"] = f"{router.prefix}/{rollout.id}"
    return RolloutPublic.from_domain(rollout)


@router.get(
    "",
    response_model=RolloutsPublic,
    summary="List rollouts",
    description="The newest rollouts first. " + _ADMINS,
    responses=_problems(e404="You are not an admin."),
)
def list_rollouts(
    rollouts: RolloutsDep,
    user: CurrentUserDep,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many.")] = 50,
) -> RolloutsPublic:
    items = service.list_rollouts(rollouts, user, limit=limit)
    return RolloutsPublic(items=[RolloutPublic.from_domain(r) for r in items], count=len(items))


@router.get(
    "/{rollout_id}",
    response_model=RolloutPublic,
    summary="Get a rollout",
    description="Its phase, message, waves and every store's status and cause. " + _ADMINS,
    responses=_problems(e404=_NOT_FOUND),
)
def get_rollout(
    rollout_id: RolloutId, rollouts: RolloutsDep, user: CurrentUserDep
) -> RolloutPublic:
    return RolloutPublic.from_domain(service.get_rollout(rollouts, rollout_id, user))


_CHANGES = {
    "pause": (
        service.pause_rollout,
        "Pause a rollout",
        "No new store starts; upgrades under way finish and are recorded. Idempotent.",
    ),
    "resume": (
        service.resume_rollout,
        "Resume a rollout",
        "Goes on from where it was. From `Halted`, the failed stores are retried first (a "
        "store retry: their upgrade resumes; nothing is rolled back). Idempotent.",
    ),
    "abort": (
        service.abort_rollout,
        "Abort a rollout",
        "Ends it (`Aborted`, final): stores not started stay at their version; upgrades under "
        "way finish.",
    ),
}


def _change_route(action: str) -> None:
    change, summary, text = _CHANGES[action]

    def endpoint(
        rollout_id: RolloutId, rollouts: RolloutsDep, user: CurrentUserDep
    ) -> RolloutPublic:
        return RolloutPublic.from_domain(change(rollouts, rollout_id, user))

    endpoint.__name__ = f"{action}_rollout"
    router.add_api_route(
        f"/{{rollout_id}}/{action}",
        endpoint,
        methods=["POST"],
        response_model=RolloutPublic,
        summary=summary,
        description=f"{text} {_ADMINS}",
        responses=_problems(e404=_NOT_FOUND, e409="The rollout has ended (or cannot do this now)."),
    )


for _action in _CHANGES:
    _change_route(_action)
