"""Every domain error the services raise (:mod:`api.core.errors`) reaches the client through
the one handler with its HTTP status and its message, in zh-CN and in en.

One real request per error class that the services raise: each answer is compared with the
status of the HTTP standard and the message written out here in both languages (the English
template and its translation as the catalogue has it), not with the service's own mapping.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.api_keys import create_key, revoke_key
from api.core.settings import Settings
from api.services.results import sign_map
from tests.support.api import Service, running_service, zip_folder, zip_part
from tests.support.paths import REPO
from tests.support.scenario_files import write_tiny

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class StoredAndFull:
    """A running service with a stored scenario, and one whose storage quota is tiny."""

    svc: Service
    full: Service
    scenario_id: str
    tiny: Path


@pytest.fixture(scope="module")
def stored_and_full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoredAndFull]:
    tmp = tmp_path_factory.mktemp("domain-errors")
    tiny = write_tiny(tmp / "tiny")
    settings = Settings(data_dir=tmp / "data", poll_seconds=0.1, max_upload_bytes=10_000)
    quota = Settings(data_dir=tmp / "quota", poll_seconds=0.1, storage_quota_bytes=100)
    with running_service(settings) as svc, running_service(quota) as full:
        h = svc.headers("national")
        r = svc.client.post("/api/v1/scenarios", files=zip_part(zip_folder(tiny)), headers=h)
        assert r.status_code == 201, r.text
        yield StoredAndFull(svc, full, r.json()["id"], tiny)


def _headers(svc: Service, lang: str) -> dict[str, str]:
    return svc.headers("national") | {"Accept-Language": lang}


def _zip_without_toml() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("tiny/posts.csv", "post_id\nP1\n")
    return buf.getvalue()


def _not_found(w: StoredAndFull, lang: str) -> httpx.Response:
    return w.svc.client.get("/api/v1/plans/nope", headers=_headers(w.svc, lang))


def _bad_request(w: StoredAndFull, lang: str) -> httpx.Response:
    files = [("files", ("dir/posts.csv", b"post_id\n", "text/csv"))]
    return w.svc.client.post("/api/v1/scenarios", files=files, headers=_headers(w.svc, lang))


def _unreadable(w: StoredAndFull, lang: str) -> httpx.Response:
    files = zip_part(b"this is no zip", name="x.zip")
    return w.svc.client.post("/api/v1/scenarios", files=files, headers=_headers(w.svc, lang))


def _invalid(w: StoredAndFull, lang: str) -> httpx.Response:
    files = zip_part(_zip_without_toml())
    return w.svc.client.post("/api/v1/scenarios", files=files, headers=_headers(w.svc, lang))


def _too_large(w: StoredAndFull, lang: str) -> httpx.Response:
    files = zip_part(b"PK\x03\x04" + b"\0" * 12_000, name="big.zip")
    return w.svc.client.post("/api/v1/scenarios", files=files, headers=_headers(w.svc, lang))


def _storage_full(w: StoredAndFull, lang: str) -> httpx.Response:
    files = zip_part(zip_folder(w.tiny))
    return w.full.client.post("/api/v1/scenarios", files=files, headers=_headers(w.full, lang))


def _forbidden(w: StoredAndFull, lang: str) -> httpx.Response:
    params = {"expires": str(int(time.time()) + 600), "signature": "0" * 64, "key": "wp_x"}
    return w.svc.client.get(
        "/api/v1/plans/nope/map", params=params, headers={"Accept-Language": lang}
    )


def _gone(w: StoredAndFull, lang: str) -> httpx.Response:
    app: Any = w.svc.client.app
    with app.state.sessions() as session:
        row, _key = create_key(session, "national", name=f"revoked {lang}")
        revoke_key(session, row.prefix)
    expires, signature = sign_map(w.svc.settings.secret(), "nope", None, 600, row.prefix)
    params = {"expires": str(expires), "signature": signature, "key": row.prefix}
    return w.svc.client.get(
        "/api/v1/plans/nope/map", params=params, headers={"Accept-Language": lang}
    )


def _conflict(w: StoredAndFull, lang: str) -> httpx.Response:
    h = _headers(w.svc, lang)
    job_id = w.svc.client.post(f"/api/v1/scenarios/{w.scenario_id}/plans", headers=h).json()[
        "job_id"
    ]
    w.svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)  # cancelled (or finished)
    return w.svc.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)


def _job_state(w: StoredAndFull, r: httpx.Response) -> str:
    job_id = r.url.path.split("/")[-2]
    state: str = w.svc.client.get(
        f"/api/v1/jobs/{job_id}", headers=w.svc.headers("national")
    ).json()["state"]
    return state


@dataclass(frozen=True)
class Case:
    """One domain error: the request that meets it, its status, its message in each
    language (built from the answer where the message names something the request made)."""

    kind: str
    status: int
    request: Callable[[StoredAndFull, str], httpx.Response]
    message: Callable[[StoredAndFull, httpx.Response], dict[str, str]]


def _fixed(zh: str, en: str) -> Callable[[StoredAndFull, httpx.Response], dict[str, str]]:
    return lambda _w, _r: {"zh-CN": zh, "en": en}


def _quota_message(_w: StoredAndFull, r: httpx.Response) -> dict[str, str]:
    body = r.json()
    used, adding, quota = body["usage_bytes"], body["upload_bytes"], body["quota_bytes"]
    return {
        "zh-CN": f"已达存储配额：此密钥的方案数据已占用 {used:,} 字节，本次上传还需 {adding:,} "
        f"字节，而每个密钥的配额为 {quota:,} 字节（PLANNER_STORAGE_QUOTA_BYTES）；"
        "请删除不再需要的方案数据",
        "en": f"storage quota reached: this key's scenarios keep {used:,} bytes, this upload "
        f"needs {adding:,} more and the quota is {quota:,} bytes per key "
        "(PLANNER_STORAGE_QUOTA_BYTES); delete scenarios that are no longer needed",
    }


def _conflict_message(w: StoredAndFull, r: httpx.Response) -> dict[str, str]:
    job_id, state = r.url.path.split("/")[-2], _job_state(w, r)
    return {
        "zh-CN": f"任务 '{job_id}' 已经结束（{state}）",
        "en": f"job '{job_id}' has already finished ({state})",
    }


CASES = [
    Case("NotFound", 404, _not_found, _fixed("没有规划结果 'nope'", "no plan 'nope'")),
    Case(
        "BadRequest",
        400,
        _bad_request,
        _fixed(
            "文件名 'dir/posts.csv'；应为不含路径的文件名，如 posts.csv",
            "file name 'dir/posts.csv'; expected a plain name like posts.csv",
        ),
    ),
    Case(
        "Unreadable",
        415,
        _unreadable,
        _fixed(
            "文件 'x.zip' 不是 zip 压缩包；应为方案文件夹的 .zip 压缩包",
            "file 'x.zip' is not a zip archive; expected a .zip of the scenario folder",
        ),
    ),
    Case(
        "Invalid",
        422,
        _invalid,
        _fixed(
            "zip 中没有 scenario.toml（应在顶层或一个文件夹内）",
            "the zip holds no scenario.toml (at its top or in one folder)",
        ),
    ),
    Case(
        "TooLarge",
        413,
        _too_large,
        _fixed(
            "文件 'big.zip'超过 10,000 字节（PLANNER_MAX_UPLOAD_BYTES）；请上传较小的方案数据",
            "file 'big.zip' is larger than 10,000 bytes (PLANNER_MAX_UPLOAD_BYTES); "
            "upload a smaller scenario",
        ),
    ),
    Case("StorageFull", 507, _storage_full, _quota_message),
    Case(
        "Forbidden",
        403,
        _forbidden,
        _fixed(
            "地图链接的签名与该规划结果和省份不符",
            "the map link's signature is not valid for this plan and province",
        ),
    ),
    Case(
        "Gone",
        410,
        _gone,
        _fixed(
            "生成此地图链接的密钥已被吊销；请索取新的链接",
            "the key that made this map link has been revoked; ask for a new link",
        ),
    ),
    Case("Conflict", 409, _conflict, _conflict_message),
]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_domain_error_reaches_the_client(
    stored_and_full: StoredAndFull, case: Case, lang: str
) -> None:
    r = case.request(stored_and_full, lang)
    assert r.status_code == case.status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["detail"] == case.message(stored_and_full, r)[lang]


def test_every_status_of_a_raised_error_is_covered() -> None:
    """The classes above are those the services raise (a new one gets a case here)."""
    raised: set[str] = set()
    for path in (REPO / "api" / "services").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        raised |= {
            name
            for name in (
                "NotFound",
                "Forbidden",
                "Invalid",
                "BadRequest",
                "Unreadable",
                "TooLarge",
                "Conflict",
                "Gone",
                "Busy",
                "StorageFull",
                "Unavailable",
                "Failed",
            )
            if f"raise {name}(" in text or f"{name}(N_(" in text
        }
    covered = {c.kind for c in CASES}
    # Failed (a finished plan's files that the map cannot draw) is left out: its message
    # carries the map reader's own text, rendered in the plan's language, not the request's
    assert raised - covered <= {"Failed"}, raised - covered
