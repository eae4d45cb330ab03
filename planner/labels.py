"""Codes and their labels: the one place that says what a coded value is called.

A coded column of the data contract (a post's category, a degree, a major class, a target's
role, a yes/no flag, a term) and a coded column of a plan (its status, a fairness kind, a
re-plan's change) holds a **code** for machines (``bachelor``, ``education``, ``1``) and shows
a **label** to people, in their language (本科 / bachelor, 教育 / education, 是 / yes). Each
set of codes is a :class:`Vocabulary`: the codes in the order of the data contract
(``docs/data-contract.md``), a label for each (a template of the catalogue) and documented
synonyms (common ways of writing a value that are neither the code nor a label: 学士 for a
bachelor, Y/N, 1/0, true/false for yes/no).

Readers accept any of them (:meth:`Vocabulary.code`); the template workbook's drop-downs
offer :meth:`Vocabulary.labels`; a message about an unknown value lists them
(:meth:`Vocabulary.listing`). Machine outputs (CSV, JSON) keep the codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from planner.i18n import LANGUAGES, N_, Text, render
from planner.scenario import CATEGORIES, DEGREES, MAJOR_CLASSES

__all__ = [
    "CATEGORY",
    "CHANGE",
    "DEGREE",
    "FAIRNESS_KIND",
    "MAJOR_CLASS",
    "MIN_DEGREE",
    "PIN_ACTION",
    "ROLE",
    "STATUS",
    "TERM",
    "VERSION_CHANGE",
    "VOCABULARIES",
    "YES_NO",
    "Vocabulary",
    "vocabulary_of",
]

LIST_SEPARATORS = (";", "；", "、", ",", "，")
"""What may separate the values of a list cell (``;`` is the contract's; Chinese offices type
``；`` or ``、``)."""


def _fold(text: str) -> str:
    return " ".join(text.replace("\u3000", " ").split()).casefold()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The codes of one coded column, their labels and synonyms.

    Parameters
    ----------
    name
        What the codes are (for the documentation and tests).
    labels
        Code -> label template, in the order of the data contract.
    synonyms
        Other accepted spellings -> code (compared case-folded, spaces squeezed). They must not
        name another code's code or label.
    """

    name: str
    labels: Mapping[str, str]
    synonyms: Mapping[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes, in the contract's order."""
        return tuple(self.labels)

    def label(self, code: str, lang: str | None = None) -> str:
        """The label of ``code`` in ``lang`` (default: the language of the moment); an
        unknown code is shown as it is."""
        template = self.labels.get(str(code))
        return render(template, lang=lang) if template is not None else str(code)

    def labels_in(self, lang: str | None = None) -> list[str]:
        """Every label in ``lang``, in the contract's order (a template's drop-down)."""
        return [render(t, lang=lang) for t in self.labels.values()]

    def code(self, text: str) -> str | None:
        """The code that ``text`` names (the code, a label in any language or a synonym);
        ``None`` when it names none."""
        return _lookup(self).get(_fold(str(text)))

    def codes_of_list(self, text: str) -> tuple[list[str], list[str]]:
        """The codes of a list cell (values separated by ``;``, ``；``, ``、`` or ``,``) and the
        parts that name no code."""
        parts = [text]
        for sep in LIST_SEPARATORS:
            parts = [q for p in parts for q in p.split(sep)]
        codes: list[str] = []
        unknown: list[str] = []
        for part in (p.strip() for p in parts):
            if not part:
                continue
            found = self.code(part)
            if found is None:
                unknown.append(part)
            elif found not in codes:
                codes.append(found)
        return codes, unknown

    def listing(self) -> Text:
        """The labels, joined, as a text read in the reader's language (``本科、硕士``)."""
        return join_texts(Text(t) for t in self.labels.values())


def join_texts(texts: Iterable[Text]) -> Text:
    """``a, b, c`` of texts, joined in the reader's language (``a、b、c`` in zh-CN)."""
    items = list(texts)
    if not items:
        return Text(N_("(nothing)"))
    out = items[-1]
    for item in reversed(items[:-1]):
        out = Text(N_("{first}, {rest}"), {"first": item, "rest": out})
    return out


_LOOKUPS: dict[str, dict[str, str]] = {}


def _lookup(vocabulary: Vocabulary) -> dict[str, str]:
    """Case-folded code, label (every language) and synonym -> code."""
    found = _LOOKUPS.get(vocabulary.name)
    if found is None:
        found = {}
        for text, code in vocabulary.synonyms.items():
            found[_fold(text)] = code
        for code, template in vocabulary.labels.items():
            for lang in LANGUAGES:
                found[_fold(render(template, lang=lang))] = code
            found[_fold(code)] = code
        _LOOKUPS[vocabulary.name] = found
    return found


# --- the contract's coded columns ------------------------------------------------------------

CATEGORY = Vocabulary(
    "post category",
    {
        "education": N_("education"),
        "health": N_("health"),
        "agriculture": N_("agriculture"),
        "youth_center": N_("youth center"),
        "remote_education": N_("remote education"),
        "rural_culture": N_("rural culture"),
        "procuratorate": N_("procuratorate"),
        "legal_aid": N_("legal aid"),
        "court": N_("court"),
        "development_finance": N_("development finance"),
        "mobile_service": N_("mobile service"),
        "other": N_("other"),
    },
    {
        "支教": "education",
        "基础教育": "education",
        "医疗": "health",
        "卫生": "health",
        "支医": "health",
        "农业": "agriculture",
        "支农": "agriculture",
        "农技": "agriculture",
        "青年中心": "youth_center",
        "远程教育": "remote_education",
        "农村文化": "rural_culture",
        "检察": "procuratorate",
        "法律援助": "legal_aid",
        "法院": "court",
        "开发金融": "development_finance",
        "金融": "development_finance",
        "流动服务车": "mobile_service",
    },
)
"""A post's category (``posts.category``, ``applicants.preferred_categories``)."""

MAJOR_CLASS = Vocabulary(
    "major class",
    {
        "education": N_("Education (major)"),
        "medicine": N_("Medicine (major)"),
        "agriculture": N_("Agronomy (major)"),
        "law": N_("Law (major)"),
        "economics_finance": N_("Economics and finance (major)"),
        "engineering": N_("Engineering (major)"),
        "science": N_("Science (major)"),
        "humanities": N_("Humanities (major)"),
        "arts": N_("Arts (major)"),
        "management": N_("Management (major)"),
        "other": N_("Other (major)"),
    },
    {
        "教育": "education",
        "education studies": "education",
        "医学": "medicine",
        "medicine": "medicine",
        "农学": "agriculture",
        "agronomy": "agriculture",
        "法学": "law",
        "law": "law",
        "经济学": "economics_finance",
        "金融学": "economics_finance",
        "经济": "economics_finance",
        "金融": "economics_finance",
        "economics": "economics_finance",
        "工学": "engineering",
        "工科": "engineering",
        "理学": "science",
        "理科": "science",
        "文学": "humanities",
        "历史学": "humanities",
        "哲学": "humanities",
        "人文": "humanities",
        "艺术": "arts",
        "管理": "management",
        "其他": "other",
    },
)
"""An applicant's class of major (``applicants.major_class``, ``posts.required_majors``)."""

DEGREE = Vocabulary(
    "degree",
    {
        "junior_college": N_("junior college"),
        "bachelor": N_("bachelor"),
        "master": N_("master"),
        "doctor": N_("doctor"),
    },
    {
        "专科": "junior_college",
        "大学专科": "junior_college",
        "高职": "junior_college",
        "高职高专": "junior_college",
        "junior college": "junior_college",
        "学士": "bachelor",
        "本科生": "bachelor",
        "大学本科": "bachelor",
        "undergraduate": "bachelor",
        "硕士研究生": "master",
        "硕士生": "master",
        "博士研究生": "doctor",
        "博士生": "doctor",
    },
)
"""An applicant's degree (``applicants.degree``): 研究生 is not accepted here, since it may be
a master or a doctor."""

MIN_DEGREE = Vocabulary(
    "minimum degree",
    dict(DEGREE.labels),
    {**DEGREE.synonyms, "研究生": "master", "postgraduate": "master"},
)
"""A post's minimum degree (``posts.min_degree``): 研究生 (a postgraduate) is a master at
least, so it is unambiguous here."""

ROLE = Vocabulary(
    "target role",
    {
        "service": N_("service province (dispatch target)"),
        "recruit": N_("recruiting province (recruitment target)"),
    },
    {
        "服务省": "service",
        "服务": "service",
        "派遣": "service",
        "计划派遣名额": "service",
        "service province": "service",
        "dispatch": "service",
        "招募省": "recruit",
        "招募": "recruit",
        "招募指标": "recruit",
        "recruiting province": "recruit",
        "recruitment": "recruit",
    },
)
"""A target's role (``targets.role``)."""

YES_NO = Vocabulary(
    "yes/no",
    {"1": N_("yes"), "0": N_("no")},
    {
        "y": "1",
        "n": "0",
        "true": "1",
        "false": "0",
        "1.0": "1",
        "0.0": "0",
        "是": "1",
        "否": "0",
        "有": "1",
        "无": "0",
        "√": "1",
        "×": "0",
    },
)
"""Every 0/1 column (``relay``, ``barred``, ``served_last_year``, ``health_ok``)."""

TERM = Vocabulary(
    "term",
    {"1": N_("1 year"), "2": N_("2 years")},
    {"1年": "1", "2年": "2", "一年": "1", "两年": "2", "二年": "2", "1 years": "1", "2 year": "2"},
)
"""An applicant's term of service (``applicants.term_years``)."""

# --- a plan's coded columns --------------------------------------------------------------------

STATUS = Vocabulary(
    "plan status",
    {
        "optimal": N_("optimal"),
        "optimal within tolerance": N_("optimal within tolerance"),
        "gap open": N_("gap open"),
        "time-limit": N_("time-limit"),
    },
)
"""How the allocation's solve ended (``summary.json`` ``status``)."""

FAIRNESS_KIND = Vocabulary(
    "fairness kind",
    {"wasted_seat": N_("wasted seat"), "justified_envy": N_("justified envy")},
)
"""A row of ``fairness.csv`` (``kind``)."""

CHANGE = Vocabulary(
    "re-plan change",
    {
        "kept": N_("kept on the post"),
        "moved": N_("moved to another post"),
        "unplaced": N_("no longer placed"),
        "dropout": N_("dropped out"),
    },
)
"""A volunteer of the earlier plan in a re-plan (``moves.csv`` ``change``)."""

PIN_ACTION = Vocabulary(
    "pin action",
    {
        "assign": N_("keep on this post"),
        "forbid": N_("never this pair"),
        "close": N_("close the post"),
        "exclude": N_("do not place"),
    },
    {"指定": "assign", "禁止": "forbid", "关闭": "close", "排除": "exclude"},
)
"""An office's decision on a plan (``pins.csv`` ``action``; the workbook sheet 调整)."""

VERSION_CHANGE = Vocabulary(
    "version change",
    {
        "kept": N_("same post"),
        "moved": N_("moved"),
        "placed": N_("newly placed"),
        "unplaced": N_("no longer placed"),
    },
)
"""An applicant between two versions of a plan (:func:`planner.diff.diff_assignments`)."""

VOCABULARIES: dict[str, Vocabulary] = {
    v.name: v
    for v in (
        CATEGORY,
        MAJOR_CLASS,
        DEGREE,
        MIN_DEGREE,
        ROLE,
        YES_NO,
        TERM,
        STATUS,
        FAIRNESS_KIND,
        CHANGE,
        PIN_ACTION,
        VERSION_CHANGE,
    )
}

_BY_CHOICES: dict[tuple[str, ...], Vocabulary] = {
    CATEGORIES: CATEGORY,
    MAJOR_CLASSES: MAJOR_CLASS,
    DEGREES: DEGREE,
    ("service", "recruit"): ROLE,
    ("1", "2"): TERM,
}

OUTPUT_COLUMNS: dict[str, Vocabulary] = {
    "category": CATEGORY,
    "degree": DEGREE,
    "major_class": MAJOR_CLASS,
    "min_degree": DEGREE,
    "relay": YES_NO,
    "health_ok": YES_NO,
    "status": STATUS,
    "kind": FAIRNESS_KIND,
    "change": CHANGE,
    "term_years": TERM,
}
"""Columns of a plan's tables shown to people with labels (``plan.xlsx``, the pages)."""


def vocabulary_of(name: str, choices: tuple[str, ...], flag: bool) -> Vocabulary | None:
    """The vocabulary of a contract column (its name, its choices, whether it is a 0/1 flag);
    ``None`` for a column of no coded values."""
    if flag:
        return YES_NO
    if name == "min_degree":
        return MIN_DEGREE
    return _BY_CHOICES.get(tuple(choices))
