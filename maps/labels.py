"""Every user-facing text of a map, in one place.

The interactive page (``static/westplan.js`` reads them from the page's JSON document under
``labels``), the layer control (built in :mod:`maps.render`) and the static overview
(:mod:`maps.report`) take their control names, legend titles and popup field names from
:func:`map_labels` and from nowhere else, so that a catalogue can translate them here. The
Chinese terms follow the 2006 implementation plan (see ``docs/glossary.md``).
"""

from __future__ import annotations

__all__ = ["map_labels"]


def map_labels() -> dict[str, str]:
    """The texts of a map, by key.

    Returns
    -------
    dict of str to str
        Layer names (``layer_*``), post categories (``category_<code>``), legend titles
        and entries (``legend_*``), popup and tooltip field names (``county_*``,
        ``post_*``, ``stop_*``, ``township_*``), the campaign-day control (``day_*``) and
        the heading's texts. A text with ``{}`` takes
        one value (a day number, say) where the braces stand.
    """
    return {
        # layers (the layer control)
        "layer_fill": "County: quota fill rate 名额完成率",
        "layer_relay": "County: empty relay seats 接力岗位空岗",
        "layer_budget": "County: budget 预算 (CNY/yr)",
        "layer_provinces": "Province outlines 省界",
        "layer_prefectures": "Prefecture outlines 地市界",
        "layer_flows": "Recruitment flows 招募流向",
        "layer_posts": "Posts 服务岗位",
        "layer_coverage": "Township coverage 乡镇覆盖率",
        "layer_stations": "Stations (depots) 服务站",
        "layer_routes": "Vehicle routes 服务车路线",
        "layer_tiles": "Tiles 底图",
        # post categories (the planning model's codes), in the seed's words
        "category_education": "education 教育",
        "category_health": "health 医疗卫生",
        "category_agriculture": "agriculture 农业科技",
        "category_youth_center": "youth center 青年中心",
        "category_remote_education": "remote education 农村现代远程教育",
        "category_rural_culture": "rural culture 农村文化建设",
        "category_procuratorate": "procuratorate 基层检察机关",
        "category_legal_aid": "legal aid 基层法律援助",
        "category_court": "court 基层人民法院",
        "category_development_finance": "development finance 开发性金融",
        "category_mobile_service": "mobile service 流动服务",
        "category_other": "other 其他",
        # legends
        "legend_posts": "Post category 岗位类别",
        "legend_vehicles": "Vehicles 服务车",
        "legend_met": "target met 达标 (size: demand)",
        "legend_unmet": "unmet 未达标 (size: unserved)",
        "no_data": "no data 无数据",
        # the campaign-day control
        "day_control": "Campaign day 服务日",
        "day_all": "all days 全部",
        "day": "day {} 第{}天",
        # county popup
        "county_prefecture": "prefecture 地市",
        "county_province": "province 省",
        "county_quota": "quota 名额",
        "county_placed": "placed 新招募",
        "county_fill": "fill rate 完成率",
        "county_relay": "empty relay seats 接力岗位空岗",
        "county_budget": "budget 预算 (CNY/yr)",
        "county_townships_met": "townships at target 乡镇达标",
        # post popup
        "post": "post 岗位",
        "post_township": "township 乡镇",
        "post_county": "county 区县",
        "post_category": "category 类别",
        "post_seats": "seats 岗位数",
        "post_filled": "filled 已派",
        "post_relay": "relay post 接力岗位",
        "post_relay_empty": "{} empty 空岗",
        # routes, stops and stations
        "vehicle": "vehicle 服务车",
        "station": "station 服务站",
        "stop": "stop 服务点",
        "stop_day": "day 日",
        "stop_order": "stop order 顺序",
        "stop_arrival": "arrival 到达",
        "stop_clients": "clients 服务人数",
        # township coverage
        "township": "township 乡镇",
        "township_demand": "demand 需求",
        "township_served": "served 已服务",
        "township_target": "target 目标",
        "township_unserved": "unserved 未服务",
        "township_met": "target met 达标",
        # flows
        "flow_volunteers": "{} volunteers 名志愿者",
        # answers and the heading
        "yes": "yes 是",
        "no": "no 否",
        "national": "全国 national",
        "synthetic": "SYNTHETIC DATA 模拟数据",
        "search": "county 区县…",
    }
