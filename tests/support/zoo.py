"""The shared zoo of broken inputs: each case breaks the tiny scenario in one way.

A case names the problem the validator must report: file, line, column, rule and severity.
Cases that make whole zips or layers write them next to the scenario folder.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.scenario_files import tiny_counties, write_tiny


@dataclass(frozen=True)
class Expect:
    file: str
    line: int | None
    column: str | None
    rule: str
    severity: str = "error"


@dataclass(frozen=True)
class Case:
    name: str
    breaks: Callable[[Path], Path]
    """Given a tiny scenario folder, break it; return the path to validate."""
    expect: tuple[Expect, ...]


def _set_cell(folder: Path, file: str, line: int, column: str, value: str) -> None:
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cell(file: str, line: int, column: str, value: str) -> Callable[[Path], Path]:
    def breaks(folder: Path) -> Path:
        _set_cell(folder, file, line, column, value)
        return folder

    return breaks


def _append(file: str, text: str) -> Callable[[Path], Path]:
    def breaks(folder: Path) -> Path:
        with (folder / file).open("a", encoding="utf-8") as f:
            f.write(text)
        return folder

    return breaks


def _write(file: str, data: bytes) -> Callable[[Path], Path]:
    def breaks(folder: Path) -> Path:
        (folder / file).write_bytes(data)
        return folder

    return breaks


def _drop_column(file: str, column: str) -> Callable[[Path], Path]:
    def breaks(folder: Path) -> Path:
        path = folder / file
        lines = [ln.split(",") for ln in path.read_text(encoding="utf-8").splitlines()]
        k = lines[0].index(column)
        path.write_text(
            "\n".join(",".join(c[:k] + c[k + 1 :]) for c in lines) + "\n", encoding="utf-8"
        )
        return folder

    return breaks


def _gbk_posts(folder: Path) -> Path:
    path = folder / "posts.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    return folder


def _pairing(rows: str) -> Callable[[Path], Path]:
    return _write("pairing.csv", ("service_province,recruit_province,seats\n" + rows).encode())


def _point_outside(folder: Path) -> Path:
    _set_cell(folder, "posts.csv", 3, "lon", "116.397")  # Beijing, far from Guizhou
    _set_cell(folder, "posts.csv", 3, "lat", "39.909")
    return folder


def _layer(folder: Path, features: list[dict], crs: str | None) -> None:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    (folder / "counties.geojson").write_text(json.dumps(doc), encoding="utf-8")
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        toml.replace('counties = "builtin:china"', 'counties = "counties.geojson"'),
        encoding="utf-8",
    )


def _county_features(bowtie: bool) -> list[dict]:
    """Square counties around the tiny scenario's points; the first is a bow-tie if asked."""
    feats = []
    for i, c in enumerate(tiny_counties()):
        x, y, d = c.lon, c.lat, 0.05
        if bowtie and i == 0:
            # a bow-tie crossing at the point itself; make_valid splits it into two triangles
            ring = [[x - d, y - d], [x + d, y + d], [x + d, y - d], [x - d, y + d], [x - d, y - d]]
        else:
            ring = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"code": c.code, "name": c.name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return feats


def _self_intersecting_layer(folder: Path) -> Path:
    _layer(folder, _county_features(bowtie=True), "urn:ogc:def:crs:OGC:1.3:CRS84")
    return folder


def _projected_layer(folder: Path) -> Path:
    feats = _county_features(bowtie=False)
    for f in feats:  # metres, as a layer in Web Mercator would have
        f["geometry"]["coordinates"] = [
            [[x * 111_320.0, y * 110_574.0] for x, y in f["geometry"]["coordinates"][0]]
        ]
    _layer(folder, feats, "urn:ogc:def:crs:EPSG::3857")
    return folder


def _zip_with(folder: Path, name: str, extra: Callable[[zipfile.ZipFile], None]) -> Path:
    out = folder.parent / f"{folder.name}-{name}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"tiny/{p.name}")
        extra(zf)
    return out


def _zip_slip(folder: Path) -> Path:
    return _zip_with(folder, "slip", lambda zf: zf.writestr("../x", "escaped"))


def _zip_bomb(folder: Path) -> Path:
    """A zip whose central directory declares a 5 GB member (refused before extraction)."""

    def bomb(zf: zipfile.ZipFile) -> None:
        zf.writestr("tiny/bomb.csv", b"0" * 1024)
        zf.filelist[-1].file_size = 5 * 1024**3  # declared size, written as ZIP64

    return _zip_with(folder, "bomb", bomb)


A_LINE = 2  # first data line

CASES: tuple[Case, ...] = (
    Case(
        "unknown-county",
        _cell("quotas.csv", 3, "county_code", "529999"),
        (Expect("quotas.csv", 3, "county_code", "unknown-county"),),
    ),
    Case(
        "township-outside-county",
        _cell("posts.csv", 4, "township_code", "110101001"),
        (Expect("posts.csv", 4, "township_code", "D3"),),
    ),
    Case("point-outside-county", _point_outside, (Expect("posts.csv", 3, "lon", "D3"),)),
    Case(
        "duplicate-id",
        _cell("posts.csv", 5, "post_id", "PA1"),
        (Expect("posts.csv", 5, "post_id", "duplicate-id"),),
    ),
    Case(
        "negative-seats",
        _cell("posts.csv", 2, "seats", "-2"),
        (Expect("posts.csv", 2, "seats", "bad-value"),),
    ),
    Case(
        "fractional-seats",
        _cell("posts.csv", 2, "seats", "1.5"),
        (Expect("posts.csv", 2, "seats", "bad-value"),),
    ),
    Case(
        "empty-seats",
        _cell("posts.csv", 2, "seats", ""),
        (Expect("posts.csv", 2, "seats", "bad-value"),),
    ),
    Case(
        "unknown-category",
        _cell("posts.csv", 3, "category", "tourism"),
        (Expect("posts.csv", 3, "category", "bad-value"),),
    ),
    Case(
        "unknown-degree",
        _cell("applicants.csv", 3, "degree", "phd"),
        (Expect("applicants.csv", 3, "degree", "bad-value"),),
    ),
    Case(
        "unknown-major",
        _cell("applicants.csv", 4, "major_class", "physics"),
        (Expect("applicants.csv", 4, "major_class", "bad-value"),),
    ),
    Case(
        "pref-unknown-province",
        _cell("applicants.csv", 2, "pref_2", "990000"),
        (Expect("applicants.csv", 2, "pref_2", "unknown-province"),),
    ),
    Case(
        "pref-unpaired-province",
        _pairing("520000,110000,\n"),
        (Expect("applicants.csv", 4, "pref_1", "unpaired-province"),),
    ),
    Case("pairing-zero", _pairing(""), (Expect("pairing.csv", None, "service_province", "D7"),)),
    Case(
        "pairing-four",
        _pairing("520000,110000,\n520000,320000,\n520000,440000,\n520000,330000,\n"),
        (Expect("pairing.csv", 5, "service_province", "D7"),),
    ),
    Case(
        "self-intersecting-polygon",
        _self_intersecting_layer,
        (Expect("counties.geojson", None, "geometry", "repaired-geometry", "warning"),),
    ),
    Case(
        "layer-in-other-crs",
        _projected_layer,
        (Expect("counties.geojson", None, None, "layer-crs"),),
    ),
    Case("gbk-text", _gbk_posts, (Expect("posts.csv", 2, None, "encoding", "warning"),)),
    Case(
        "missing-column",
        _drop_column("applicants.csv", "degree"),
        (Expect("applicants.csv", 1, "degree", "missing-column"),),
    ),
    Case(
        "empty-file", _write("targets.csv", b""), (Expect("targets.csv", None, None, "empty-file"),)
    ),
    Case("zip-slip", _zip_slip, (Expect("tiny-slip.zip", None, "../x", "zip-path"),)),
    Case("zip-bomb", _zip_bomb, (Expect("tiny-bomb.zip", None, None, "zip-too-large"),)),
    Case(
        "fields-count",
        _append("posts.csv", "PX,1,2\n"),
        (Expect("posts.csv", 7, None, "field-count"),),
    ),
    Case(
        "code-as-float",
        _cell("quotas.csv", 2, "county_code", "520102.0"),
        (Expect("quotas.csv", 2, "county_code", "bad-value"),),
    ),
    Case(
        "d1-short",
        _cell("posts.csv", 2, "seats", "0"),
        (Expect("quotas.csv", 2, "general_quota", "D1"),),
    ),
    Case(
        "d4-continuing-overflow",
        _append("continuing.csv", "V2,PA3\nV3,PA3\n"),
        (Expect("posts.csv", 4, "seats", "D4"),),
    ),
    Case(
        "projected-csv-coordinates",
        _cell("stops.csv", 2, "lon", "12345678"),
        (Expect("stops.csv", 2, "lon", "bad-value"),),
    ),
)


def make_case(case: Case, root: Path) -> Path:
    """Write the tiny scenario under ``root`` and break it as ``case`` says."""
    return case.breaks(write_tiny(root / "tiny"))
