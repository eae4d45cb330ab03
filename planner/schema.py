"""The tables of the data contract: their columns, kinds and defaults, written once.

One table schema (:class:`~planner.columns.TableSchema`) per ``[files]`` key of
``scenario.toml``. The I/O layer reads a CSV, a sheet or a DataFrame against its schema and
checks every cell by its kind (:class:`~planner.columns.Kind`);
:meth:`~planner.columns.TableSchema.build` turns the checked columns into the typed table of
:mod:`planner.scenario`; the routing problem takes its defaults from here. The names are the
contract (``docs/data-contract.md``). The parts the tables are written with (kinds, columns,
table schemas, the largest values) are in :mod:`planner.columns`.
"""

from __future__ import annotations

from planner import scenario as sc
from planner.columns import (
    MAX_CLIENTS_PER_DAY,
    MAX_CREW,
    MAX_DAYS,
    MAX_DEMAND,
    MAX_POST_SEATS,
    MAX_PRIORITY,
    MAX_QUOTA,
    MAX_TARGET,
    MAX_TRAVEL_MINUTES,
    MAX_VEHICLES,
    MINUTES_A_DAY,
    Kind,
    TableSchema,
    optional,
    required,
)
from planner.i18n import N_
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES, SPECIAL_ACTIONS

_ACTION_LABELS = {
    "youth_center": N_("Youth center quota"),
    "remote_education": N_("Remote education quota"),
    "rural_culture": N_("Rural culture quota"),
    "procuratorate": N_("Procuratorate quota"),
    "legal_aid": N_("Legal aid quota"),
    "court": N_("Court quota"),
    "development_finance": N_("Development finance quota"),
}
"""The special actions' quota columns, in the seed's words (专项行动)."""

QUOTAS = TableSchema(
    "quotas",
    (
        required(
            "county_code",
            Kind.COUNTY,
            N_("Service county code"),
            N_("The service county (GB/T 2260 code)."),
            "520102",
        ),
        required(
            "general_quota",
            Kind.COUNT,
            N_("General quota"),
            N_("New volunteers the county receives in the general posts."),
            "10",
            maximum=MAX_QUOTA,
        ),
        *(
            optional(
                f"{a}_quota",
                Kind.COUNT,
                _ACTION_LABELS[a],
                N_("New volunteers of this special action; 0 when empty."),
                "0",
                "0",
                maximum=MAX_QUOTA,
            )
            for a in SPECIAL_ACTIONS
        ),
        optional(
            "barred",
            Kind.FLAG,
            N_("Barred"),
            N_("Yes: the county receives no volunteer this year (a serious accident)."),
            "0",
            "0",
        ),
        optional(
            "served_last_year",
            Kind.FLAG,
            N_("Served last year"),
            N_("Yes: the county was a service county last year; no: it is new."),
            "1",
            "1",
        ),
    ),
    unique=("county_code",),
    label=N_("Quotas"),
    typed=sc.Quotas,
    stacked=(("special_quota", tuple(f"{a}_quota" for a in SPECIAL_ACTIONS)),),
)

POSTS = TableSchema(
    "posts",
    (
        required("post_id", Kind.ID, N_("Post ID"), N_("A unique id of the post."), "P0001"),
        required(
            "county_code",
            Kind.COUNTY,
            N_("Service county code"),
            N_("The service county of the post."),
            "520102",
        ),
        required(
            "township_code",
            Kind.TOWNSHIP,
            N_("Township code"),
            N_("The township (9 digits, starting with the county code)."),
            "520102001",
        ),
        required(
            "category",
            Kind.CHOICE,
            N_("Category"),
            N_(
                "The post's category (education, health, a special action, ...): choose from the list."
            ),
            "education",
            CATEGORIES,
        ),
        required(
            "seats",
            Kind.COUNT,
            N_("Seats"),
            N_("Volunteers the post takes."),
            "2",
            maximum=MAX_POST_SEATS,
        ),
        optional(
            "lon",
            Kind.LON,
            N_("Longitude"),
            N_("Where the post is; empty: the township's or the county's centre."),
        ),
        optional("lat", Kind.LAT, N_("Latitude"), N_("Where the post is (with the longitude).")),
        optional("township_name", Kind.TEXT, N_("Township name"), N_("For people."), "甲镇"),
        optional(
            "relay",
            Kind.FLAG,
            N_("Relay post"),
            N_("Yes: a relay post, kept continuous (接力机制)."),
            "0",
            "0",
        ),
        optional(
            "required_majors",
            Kind.CHOICES,
            N_("Required majors"),
            N_("Major classes the post accepts, separated by ;. Empty: any."),
            choices=MAJOR_CLASSES,
        ),
        optional(
            "min_degree",
            Kind.DEGREE,
            N_("Minimum degree"),
            N_("The lowest degree the post accepts. Empty: any."),
            choices=DEGREES,
        ),
    ),
    unique=("post_id",),
    label=N_("Posts"),
    typed=sc.Posts,
)

CONTINUING = TableSchema(
    "continuing",
    (
        required(
            "volunteer_id",
            Kind.ID,
            N_("Volunteer ID"),
            N_("A two-year volunteer who stays."),
            "V0001",
        ),
        required(
            "post_id", Kind.ID, N_("Post ID"), N_("The post whose seat he or she keeps."), "P0001"
        ),
    ),
    unique=("volunteer_id",),
    label=N_("Continuing volunteers"),
    typed=sc.Continuing,
)

PREF_COLUMNS: tuple[str, ...] = tuple(f"pref_{i}" for i in range(1, 6))

APPLICANTS = TableSchema(
    "applicants",
    (
        required("applicant_id", Kind.ID, N_("Applicant ID"), N_("A unique id."), "A0001"),
        required(
            "recruit_province",
            Kind.PROVINCE,
            N_("Recruiting province"),
            N_("The province of the applicant's university."),
            "110000",
        ),
        required(
            "degree",
            Kind.DEGREE,
            N_("Degree"),
            N_("The applicant's highest degree."),
            "bachelor",
            DEGREES,
        ),
        required(
            "major_class",
            Kind.CHOICE,
            N_("Major class"),
            N_("The class of the applicant's major."),
            "education",
            MAJOR_CLASSES,
        ),
        required(
            "pref_1",
            Kind.AREA,
            N_("Preference 1"),
            N_("The first wish: a service province or county code."),
            "520000",
        ),
        *(
            optional(p, Kind.AREA, label, N_("A further wish."))
            for p, label in zip(
                PREF_COLUMNS[1:],
                (N_("Preference 2"), N_("Preference 3"), N_("Preference 4"), N_("Preference 5")),
                strict=True,
            )
        ),
        optional(
            "home_county_code",
            Kind.COUNTY,
            N_("Home county code"),
            N_("Where the applicant lives (for the transport subsidy), or give lon/lat."),
            "110101",
        ),
        optional("home_lon", Kind.LON, N_("Home longitude"), N_("Instead of the home county.")),
        optional("home_lat", Kind.LAT, N_("Home latitude"), N_("Instead of the home county.")),
        optional(
            "preferred_categories",
            Kind.CHOICES,
            N_("Preferred categories"),
            N_("Post categories the applicant prefers, separated by ;."),
            choices=CATEGORIES,
        ),
        optional(
            "term_years",
            Kind.TERM,
            N_("Term (years)"),
            N_("1 or 2 years of service."),
            "1",
            "1",
            ("1", "2"),
        ),
        optional(
            "health_ok",
            Kind.FLAG,
            N_("Passed health check"),
            N_("Yes: passed the health check; no: not (not placed)."),
            "1",
            "1",
        ),
    ),
    unique=("applicant_id",),
    label=N_("Applicants"),
    typed=sc.Applicants,
    stacked=(("preferences", PREF_COLUMNS),),
)

PAIRING = TableSchema(
    "pairing",
    (
        required(
            "service_province",
            Kind.PROVINCE,
            N_("Service province"),
            N_("A service province (西部 province)."),
            "520000",
        ),
        required(
            "recruit_province",
            Kind.PROVINCE,
            N_("Recruiting province"),
            N_("A province whose universities recruit for it (对口)."),
            "110000",
        ),
        optional(
            "seats",
            Kind.COUNT,
            N_("Pair seats"),
            N_("At most this many from the pair. Empty: no limit."),
            maximum=MAX_TARGET,
        ),
    ),
    unique=("service_province", "recruit_province"),
    label=N_("Pairing"),
    typed=sc.Pairing,
)

TARGETS = TableSchema(
    "targets",
    (
        required("province_code", Kind.PROVINCE, N_("Province code"), N_("A province."), "520000"),
        required(
            "role",
            Kind.CHOICE,
            N_("Role"),
            N_(
                "A service province's dispatch target (计划派遣名额) or a recruiting "
                "province's recruitment target (招募指标)."
            ),
            "service",
            ("service", "recruit"),
        ),
        required(
            "target",
            Kind.COUNT,
            N_("Target"),
            N_("The number of volunteers."),
            "100",
            maximum=MAX_TARGET,
        ),
    ),
    unique=("province_code", "role"),
    label=N_("Targets"),
    typed=sc.Targets,
)

PREVIOUS_PLAN = TableSchema(
    "previous_plan",
    (
        required(
            "applicant_id",
            Kind.ID,
            N_("Applicant ID"),
            N_("A volunteer of the earlier plan."),
            "A0001",
        ),
        required("post_id", Kind.ID, N_("Post ID"), N_("His or her post in that plan."), "P0001"),
    ),
    unique=("applicant_id",),
    label=N_("Previous plan"),
    typed=sc.PreviousPlan,
)

STATIONS = TableSchema(
    "stations",
    (
        required(
            "station_id", Kind.ID, N_("Station ID"), N_("A county service station."), "S520102"
        ),
        required(
            "county_code", Kind.COUNTY, N_("County code"), N_("The station's county."), "520102"
        ),
        required("lon", Kind.LON, N_("Longitude"), N_("Where the station is."), "106.7513"),
        required("lat", Kind.LAT, N_("Latitude"), N_("Where the station is."), "26.5408"),
        required(
            "vehicles",
            Kind.COUNT,
            N_("Vehicles"),
            N_("Service vehicles of the station."),
            "2",
            maximum=MAX_VEHICLES,
        ),
        required(
            "clients_per_vehicle_day",
            Kind.COUNT,
            N_("Clients a vehicle a day"),
            N_("Clients one vehicle serves in a day."),
            "40",
            maximum=MAX_CLIENTS_PER_DAY,
        ),
        optional(
            "shift_start",
            Kind.TIME,
            N_("Shift start"),
            N_("When the vehicles leave, HH:MM."),
            "08:00",
            "08:00",
        ),
        optional(
            "shift_end",
            Kind.TIME,
            N_("Shift end"),
            N_("When they are back, HH:MM."),
            "17:00",
            "17:00",
        ),
        optional(
            "crew_size",
            Kind.COUNT,
            N_("Crew size"),
            N_("Volunteers a vehicle needs."),
            "2",
            "2",
            maximum=MAX_CREW,
        ),
        optional(
            "days",
            Kind.COUNT,
            N_("Campaign days"),
            N_("Days of the campaign."),
            "20",
            "20",
            maximum=MAX_DAYS,
        ),
    ),
    unique=("station_id",),
    label=N_("Stations"),
    typed=sc.Stations,
)

STOPS = TableSchema(
    "stops",
    (
        required("stop_id", Kind.ID, N_("Stop ID"), N_("A township stop."), "T0001"),
        required("county_code", Kind.COUNTY, N_("County code"), N_("The stop's county."), "520102"),
        required("lon", Kind.LON, N_("Longitude"), N_("Where the stop is."), "106.7350"),
        required("lat", Kind.LAT, N_("Latitude"), N_("Where the stop is."), "26.5500"),
        required(
            "demand",
            Kind.COUNT,
            N_("Demand"),
            N_("Clients to serve there."),
            "120",
            maximum=MAX_DEMAND,
        ),
        optional(
            "township_code",
            Kind.TOWNSHIP,
            N_("Township code"),
            N_("The township the stop belongs to (its coverage target)."),
            "520102001",
        ),
        optional(
            "minutes_per_client",
            Kind.NUMBER,
            N_("Minutes a client"),
            N_("Service minutes per client."),
            "6",
            "6",
            maximum=MINUTES_A_DAY,
            minimum=0,
        ),
        optional(
            "setup_minutes",
            Kind.NUMBER,
            N_("Set-up minutes"),
            N_("Minutes to set up at the stop."),
            "20",
            "20",
            maximum=MINUTES_A_DAY,
            minimum=0,
        ),
        optional("open", Kind.TIME, N_("Opens"), N_("Start of the stop's time window, HH:MM.")),
        optional("close", Kind.TIME, N_("Closes"), N_("End of the stop's time window, HH:MM.")),
        optional(
            "priority",
            Kind.COUNT,
            N_("Priority"),
            N_("1 is ordinary; more weighs its demand beyond the target more."),
            "1",
            "1",
            maximum=MAX_PRIORITY,
        ),
    ),
    unique=("stop_id",),
    label=N_("Stops"),
    typed=sc.Stops,
)

TRAVEL_TIMES = TableSchema(
    "travel_times",
    (
        required("from_id", Kind.ID, N_("From"), N_("A station or stop id."), "S520102"),
        required("to_id", Kind.ID, N_("To"), N_("A station or stop id."), "T0001"),
        optional(
            "minutes",
            Kind.NUMBER,
            N_("Minutes"),
            N_("Travel minutes; empty: no path."),
            maximum=MAX_TRAVEL_MINUTES,
        ),
    ),
    unique=("from_id", "to_id"),
    label=N_("Travel times"),
    typed=sc.TravelTimes,
)

TABLES: dict[str, TableSchema] = {
    s.key: s
    for s in (
        QUOTAS,
        POSTS,
        CONTINUING,
        APPLICANTS,
        PAIRING,
        TARGETS,
        PREVIOUS_PLAN,
        STATIONS,
        STOPS,
        TRAVEL_TIMES,
    )
}
"""Every CSV table of the contract by its ``[files]`` key."""

ALLOCATION_TABLES: tuple[str, ...] = ("quotas", "posts", "applicants", "pairing", "targets")
"""Tables an allocation scenario must name."""

ROUTING_TABLES: tuple[str, ...] = ("stations", "stops")
"""Tables a routing scenario must name."""
