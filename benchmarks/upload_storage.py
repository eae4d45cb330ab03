"""Bytes stored for one upload: the zip as sent against what the service keeps of it.

A zip may carry members the scenario never names (notes, copies, padding). Each passes the
zip checks when it expands less than 200-fold, so a few megabytes of zip can unpack to
hundreds. This script uploads the tiny scenario with such a member (``--padding`` MB of
nearly constant bytes, about 190-fold compressible) to an in-process service (SQLite, a
temporary data folder, a national key) and prints the zip's size, what the scenario folder
holds on disk afterwards, and the files kept.

    .venv/bin/python benchmarks/upload_storage.py [--padding 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from api.core.api_keys import create_key
from api.core.settings import Settings
from api.server.app import create_app
from tests.support.api import padded_zip
from tests.support.scenario_files import write_tiny


def stored_bytes(folder: Path) -> tuple[int, list[str]]:
    """Bytes of every file under ``folder`` and their names."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files), [p.name for p in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--padding", type=int, default=400, help="MiB of padding in the zip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = padded_zip(write_tiny(root / "tiny"), args.padding)
        settings = Settings(
            data_dir=root / "data",
            max_upload_bytes=1024**3,
            max_unzipped_bytes=2 * 1024**3,
            storage_quota_bytes=4 * 1024**3,  # ignored by a checkout without quotas
        )
        app = create_app(settings, run_jobs=False)
        with TestClient(app) as client:
            with app.state.sessions() as session:
                key = create_key(session, "national", name="bench")[1]
            r = client.post(
                "/api/v1/scenarios",
                files={"file": ("tiny.zip", data, "application/zip")},
                headers={"Authorization": f"Bearer {key}"},
            )
            if r.status_code != 201:
                raise SystemExit(f"upload answered {r.status_code}: {r.text[:500]}")
            sid = r.json()["id"]
        kept, names = stored_bytes(settings.data_dir / "scenarios" / sid)
    print(f"zip uploaded    {len(data):>13,} bytes ({args.padding} MiB padding member)")
    print(f"scenario stored {kept:>13,} bytes ({kept / len(data):,.1f}x the zip)")
    print(f"files kept      {', '.join(names)}")


if __name__ == "__main__":
    main()
