"""A small scenario made of DataFrames (two Guiyang counties, one station with three stops),
planned and routed: the results the tests of summaries, plan folders and maps read."""

from __future__ import annotations

import pandas as pd

import planner

STOP_POINTS = {"520102001": (106.7431, 26.5454), "520102002": (106.76, 26.53)}
"""Mean stop location of each township of :func:`guiyang`, computed by hand from its stops."""


DEGREES = ["bachelor", "master", "bachelor", "bachelor", "bachelor", "doctor", "bachelor"]
MAJORS = ["education", "medicine", "medicine", "agriculture", "arts", "medicine", "science"]
HOMES = ["110101", "110105", "110108", "110101", "320102", "320104", "320105"]


def guiyang() -> planner.Scenario:
    """Posts in two counties of Guiyang, seven applicants from two provinces, a station with
    one vehicle and three stops in two townships; ``Scenario.from_frames`` (no source)."""
    return planner.Scenario.from_frames(
        quotas=pd.DataFrame({"county_code": ["520102", "520103"], "general_quota": [3, 2]}),
        posts=pd.DataFrame(
            {
                "post_id": ["P1", "P2", "P3", "P4"],
                "county_code": ["520102", "520102", "520103", "520103"],
                "township_code": ["520102001", "520102002", "520103001", "520103001"],
                "category": ["education", "mobile_service", "health", "agriculture"],
                "seats": [2, 2, 2, 1],
                "relay": [0, 1, 0, 0],
            }
        ),
        applicants=pd.DataFrame(
            {
                "applicant_id": [f"A{i}" for i in range(1, 8)],
                "recruit_province": ["110000"] * 4 + ["320000"] * 3,
                "degree": DEGREES,
                "major_class": MAJORS,
                "pref_1": ["520102", "520000", "520102", "520103", "520000", "520103", "520000"],
                "home_county_code": HOMES,
            }
        ),
        pairing=pd.DataFrame(
            {"service_province": ["520000", "520000"], "recruit_province": ["110000", "320000"]}
        ),
        targets=pd.DataFrame(
            {
                "province_code": ["520000", "110000", "320000"],
                "role": ["service", "recruit", "recruit"],
                "target": [5, 4, 3],
            }
        ),
        stations=pd.DataFrame(
            {
                "station_id": ["S1"],
                "county_code": ["520102"],
                "lon": [106.7513],
                "lat": [26.5408],
                "vehicles": [1],
                "clients_per_vehicle_day": [30],
                "days": [5],
            }
        ),
        stops=pd.DataFrame(
            {
                "stop_id": ["T1", "T2", "T3"],
                "county_code": ["520102"] * 3,
                "township_code": ["520102001", "520102001", "520102002"],
                "lon": [106.7512, 106.7350, 106.7600],
                "lat": [26.5408, 26.5500, 26.5300],
                "demand": [40, 25, 30],
            }
        ),
        name="guiyang-example",
        year=2026,
    )
