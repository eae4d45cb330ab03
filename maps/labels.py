"""Every user-facing text of a map, in one place.

The interactive page (``static/westplan.js`` reads them from the page's JSON document under
``labels``), the layer control (built in :mod:`maps.render`) and the static overview
(:mod:`maps.overview`) take their control names, legend titles and popup field names from
:func:`map_labels` and from nowhere else. Each is a template of the catalogue
(:mod:`planner.i18n`), read in the language of the moment when the map is drawn: a map drawn
under zh-CN is all Chinese, under en all English. The Chinese terms follow the 2006
implementation plan (see ``docs/glossary.md``).
"""

from __future__ import annotations

from planner.i18n import N_, _

__all__ = ["LABELS", "map_labels"]

LABELS: dict[str, str] = {
    # layers (the layer control)
    "layer_fill": N_("County: quota fill rate"),
    "layer_relay": N_("County: empty relay seats"),
    "layer_budget": N_("County: budget (CNY/yr)"),
    "layer_provinces": N_("Province outlines"),
    "layer_prefectures": N_("Prefecture outlines"),
    "layer_flows": N_("Recruitment flows"),
    "layer_posts": N_("Posts"),
    "layer_coverage": N_("Township coverage"),
    "layer_stations": N_("Stations (depots)"),
    "layer_routes": N_("Vehicle routes"),
    "layer_tiles": N_("Tiles"),
    # post categories (the planning model's codes), in the seed's words
    "category_education": N_("education"),
    "category_health": N_("health"),
    "category_agriculture": N_("agriculture"),
    "category_youth_center": N_("youth center"),
    "category_remote_education": N_("remote education"),
    "category_rural_culture": N_("rural culture"),
    "category_procuratorate": N_("procuratorate"),
    "category_legal_aid": N_("legal aid"),
    "category_court": N_("court"),
    "category_development_finance": N_("development finance"),
    "category_mobile_service": N_("mobile service"),
    "category_other": N_("other"),
    # legends
    "legend": N_("Legend"),
    "legend_flows": N_("line width: volunteers"),
    "legend_posts": N_("Post category"),
    "legend_vehicles": N_("Service vehicles"),
    "legend_met": N_("target met (size: demand)"),
    "legend_unmet": N_("unmet (size: unserved)"),
    "no_data": N_("no data"),
    # the campaign-day control
    "day_control": N_("Campaign day"),
    "day_all": N_("all days"),
    "day": N_("day {}"),
    # county popup
    "county_prefecture": N_("prefecture"),
    "county_province": N_("province"),
    "county_quota": N_("quota"),
    "county_placed": N_("placed"),
    "county_fill": N_("fill rate"),
    "county_relay": N_("empty relay seats"),
    "county_budget": N_("budget (CNY/yr)"),
    "county_townships_met": N_("townships at target"),
    # post popup
    "post": N_("post"),
    "post_township": N_("township"),
    "post_county": N_("county"),
    "post_category": N_("category"),
    "post_seats": N_("seats"),
    "post_filled": N_("filled"),
    "post_relay": N_("relay post"),
    "post_relay_yes": N_("yes ({} empty)"),
    # routes, stops and stations
    "vehicle": N_("vehicle"),
    "station": N_("station"),
    "stop": N_("stop"),
    "stop_day": N_("day"),
    "stop_order": N_("stop order"),
    "stop_arrival": N_("arrival"),
    "stop_clients": N_("clients"),
    # township coverage
    "township": N_("township"),
    "township_demand": N_("demand"),
    "township_served": N_("served"),
    "township_target": N_("target"),
    "township_unserved": N_("unserved"),
    "township_met": N_("target met"),
    # flows
    "flow_volunteers": N_("{} volunteers"),
    # answers and the heading
    "yes": N_("yes"),
    "no": N_("no"),
    "national": N_("national"),
    "synthetic": N_("SYNTHETIC DATA"),
    "search": N_("county…"),
}
"""The map's texts by key, as templates of the catalogue."""


def map_labels() -> dict[str, str]:
    """The texts of a map, by key, in the language of the moment.

    Returns
    -------
    dict of str to str
        Layer names (``layer_*``), post categories (``category_<code>``), legend titles
        and entries (``legend_*``), popup and tooltip field names (``county_*``,
        ``post_*``, ``stop_*``, ``township_*``), the campaign-day control (``day_*``) and
        the heading's texts. A text with ``{}`` takes one value (a day number, say) where
        the braces stand.
    """
    return {key: _(text) for key, text in LABELS.items()}
