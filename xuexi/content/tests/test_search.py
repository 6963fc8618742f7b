"""Chinese full-text search (ADR 0010): the same answers on SQLite (FTS5) and PostgreSQL (GIN).

The suite runs on SQLite by default and on PostgreSQL with ``DATABASE_URL``; every test that
reads the database asks both the same questions and expects the same answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xuexi.accounts.tests.factories import UserFactory
from xuexi.content import selectors
from xuexi.content.models import Item, ItemKind, ItemStatus
from xuexi.content.search import (
    excerpt,
    fts5_query,
    highlight,
    pg_tsquery,
    query_words,
    term_pattern,
)
from xuexi.content.selectors import search_items, suggest
from xuexi.content.services import item_update
from xuexi.content.tests.factories import make_item, make_site
from xuexi.core.errors import ValidationFailed

# --- the corpus ------------------------------------------------------------------------------


@dataclass
class Corpus:
    revitalise: Item  # 乡村 and 振兴 in the title
    digital: Item  # 乡村 in the title, 振兴 once in the body
    socialism: Item  # 社会 only inside 社会主义
    community: Item
    gdp: Item  # English and digits
    ai: Item
    yellow_river: Item
    meeting: Item  # 振兴 five times, in the body only
    harvest: Item  # 振兴 once, in the body only
    governance: Item  # a title with <b> in it, and < & in the body
    video: Item
    draft: Item
    withdrawn: Item
    scheduled: Item

    def ids(self, *items: Item) -> list[int]:
        return [item.pk for item in items]


@pytest.fixture
def corpus(db) -> Corpus:
    site = make_site()
    column = site.column

    def article(title: str, *paragraphs: str, **fields: Any) -> Item:
        return make_item(column, title=title, body="".join(f"<p>{p}</p>" for p in paragraphs),
                         **fields)  # fmt: skip

    corpus = Corpus(
        revitalise=article(
            "全面推进乡村振兴 加快建设农业强国",
            "各地区各部门扎实做好粮食生产，发展特色产业，拓宽农民增收致富渠道。",
        ),
        digital=article(
            "数字乡村建设取得新进展",
            "5G基站覆盖行政村，农村电商蓬勃发展，数字技术赋能乡村振兴。",
        ),
        socialism=article(
            "坚持和发展中国特色社会主义",
            "中国特色社会主义是党和人民历经千辛万苦、付出巨大代价取得的根本成就。",
        ),
        community=article(
            "社区志愿服务温暖人心",
            "志愿者走进养老院，为老人提供义诊和理发服务。",
        ),
        gdp=article(
            "一季度国内生产总值同比增长5.3%",
            "国家统计局发布数据，2024年一季度GDP同比增长5.3%，经济运行开局良好。",
        ),
        ai=article(
            "人工智能赋能千行百业",
            "AI大模型在制造、医疗、教育等领域加快落地，Python开发者数量持续增长。",
        ),
        yellow_river=article(
            "黄河流域生态保护和高质量发展",
            "沿黄各省区加强生态保护治理，推动黄河流域高质量发展。",
        ),
        meeting=article(
            "农业农村工作会议召开",
            "会议强调，要推动乡村产业振兴、人才振兴、文化振兴、生态振兴、组织振兴。",
        ),
        harvest=article(
            "秋粮收获进度过半",
            "各地抢抓晴好天气收获秋粮，农机手连续作业，为乡村振兴打下坚实基础。",
        ),
        governance=article(
            "乡村治理<b>新样本</b>",
            "村民议事会让群众的事群众商量着办，议事规则写明 1 &lt; 2 &amp; 少数服从多数。",
        ),
        video=make_item(
            column,
            title="短视频：乡村振兴的青春力量",
            body="",
            kind=ItemKind.VIDEO,
            summary="返乡青年直播带货，带动村民增收。",
        ),
        draft=article("乡村振兴规划（草稿）", "尚未发布的乡村振兴规划。", published=False),
        withdrawn=article("乡村振兴阶段性成果", "这篇稿件已经撤回。"),
        scheduled=article("乡村振兴新闻发布会预告", "明天上午十点举行新闻发布会。"),
    )
    Item.objects.filter(pk=corpus.withdrawn.pk).update(status=ItemStatus.WITHDRAWN)
    Item.objects.filter(pk=corpus.scheduled.pk).update(
        published_at=timezone.now() + dt.timedelta(days=1)
    )
    return corpus


def found(query: str, **options: Any) -> list[int]:
    return [hit.item.pk for hit in search_items(query, **options).items]


# --- finding ---------------------------------------------------------------------------------


def test_a_two_character_word_finds_every_published_item_that_holds_it(corpus):
    assert set(found("乡村")) == set(
        corpus.ids(
            corpus.revitalise,
            corpus.digital,
            corpus.meeting,
            corpus.harvest,
            corpus.governance,
            corpus.video,
        )
    )
    assert set(found("振兴")) == set(
        corpus.ids(corpus.revitalise, corpus.digital, corpus.meeting, corpus.harvest, corpus.video)
    )


def test_a_query_of_several_words_finds_only_items_holding_all_of_them(corpus):
    both = set(found("乡村振兴"))

    assert both == set(
        corpus.ids(corpus.revitalise, corpus.digital, corpus.meeting, corpus.harvest, corpus.video)
    )
    assert corpus.governance.pk not in both  # 乡村 without 振兴
    assert set(found("乡村 治理")) == {corpus.governance.pk}
    assert found("黄河 乡村") == []


def test_a_word_inside_a_longer_word_is_found(corpus):
    assert found("社会") == [corpus.socialism.pk]
    assert found("主义") == [corpus.socialism.pk]
    assert found("社会 中国") == [corpus.socialism.pk]  # 社会 not last: no prefix match
    assert found("社会主义") == [corpus.socialism.pk]
    assert found("特色社会主义") == [corpus.socialism.pk]


def test_latin_words_and_numbers_are_found_whatever_their_case(corpus):
    assert found("GDP") == [corpus.gdp.pk]
    assert found("gdp") == [corpus.gdp.pk]
    assert found("2024") == [corpus.gdp.pk]
    assert found("5.3%") == [corpus.gdp.pk]
    assert found("python") == [corpus.ai.pk]
    assert found("AI 大模型") == [corpus.ai.pk]
    assert found("5G") == [corpus.digital.pk]


def test_the_last_word_is_matched_as_a_prefix_while_typing(corpus):
    assert set(found("乡")) >= set(corpus.ids(corpus.revitalise, corpus.digital, corpus.meeting))
    assert found("数字乡") == [corpus.digital.pk]
    assert found("黄河流") == [corpus.yellow_river.pk]
    assert found("pyth") == [corpus.ai.pk]
    # Elsewhere a finished word is matched whole, but a single Chinese character is taken as
    # the start of a word: typing cuts 黄河流 into 黄 | 河流.
    assert found("乡 数字") == [corpus.digital.pk]
    assert found("数 乡村") == [corpus.digital.pk]
    assert found("建设 数") == [corpus.digital.pk]
    assert found("设 数字") == []  # 设 only ends a word (建设) here


@pytest.mark.parametrize(
    "title",
    [
        "黄河流域生态保护和高质量发展",
        "中华人民共和国成立七十五周年",
        "全面建设社会主义现代化国家",
        "深入学习贯彻党的二十届三中全会精神",
        "一季度国内生产总值同比增长5.3%",
    ],
)
def test_typing_a_title_finds_it_at_every_character(corpus, title):
    item = make_item(corpus.meeting.column, title=title, body="<p>正文。</p>")

    for end in range(1, len(title) + 1):
        assert item.pk in found(title[:end]), title[:end]


def test_only_published_items_are_found_and_kind_narrows_them(corpus):
    results = set(found("乡村振兴"))

    assert not results & set(corpus.ids(corpus.draft, corpus.withdrawn, corpus.scheduled))
    assert found("乡村振兴", kind=ItemKind.VIDEO) == [corpus.video.pk]
    assert found("社会", kind=ItemKind.VIDEO) == []
    with pytest.raises(ValidationFailed):
        search_items("乡村", kind="podcast")


# --- ranking ---------------------------------------------------------------------------------


def test_title_matches_come_before_body_matches_and_more_matches_first(corpus):
    ranked = found("振兴")

    # Titles holding 振兴 first, newest first among equals; then the bodies, the one that says
    # 振兴 five times before those that say it once.
    assert ranked[:2] == corpus.ids(corpus.video, corpus.revitalise)
    assert ranked[2] == corpus.meeting.pk
    assert set(ranked[3:]) == set(corpus.ids(corpus.digital, corpus.harvest))


def test_a_title_holding_more_of_the_query_ranks_higher(corpus):
    ranked = found("乡村振兴")

    assert set(ranked[:2]) == set(corpus.ids(corpus.revitalise, corpus.video))
    assert ranked[2] == corpus.digital.pk  # 乡村 in the title, 振兴 in the body
    assert set(ranked[3:]) == set(corpus.ids(corpus.meeting, corpus.harvest))


def test_equal_matches_are_ordered_newest_first(corpus):
    Item.objects.filter(pk=corpus.meeting.pk).update(
        published_at=timezone.now() - dt.timedelta(days=3)
    )
    older = make_item(
        corpus.meeting.column, title="秋粮收获进度过半", body="<p>为乡村振兴打下坚实基础。</p>"
    )
    newer = make_item(
        corpus.meeting.column, title="秋粮收获进度过半", body="<p>为乡村振兴打下坚实基础。</p>"
    )
    Item.objects.filter(pk=older.pk).update(published_at=timezone.now() - dt.timedelta(days=2))

    ranked = found("秋粮收获进度")
    assert ranked.index(newer.pk) < ranked.index(older.pk)


# --- snippets --------------------------------------------------------------------------------


def test_titles_and_excerpts_mark_the_query_words(corpus):
    hit = search_items("乡村振兴").items[0]

    assert hit.title_html in {
        "全面推进<mark>乡村振兴</mark> 加快建设农业强国",
        "短视频：<mark>乡村振兴</mark>的青春力量",
    }
    by_id = {hit.item.pk: hit for hit in search_items("乡村振兴").items}
    meeting = by_id[corpus.meeting.pk]
    assert meeting.title_html == "农业农村工作会议召开"
    assert (
        "推动<mark>乡村</mark>产业<mark>振兴</mark>、人才<mark>振兴</mark>" in meeting.excerpt_html
    )
    # A video's excerpt is its summary.
    assert "返乡青年" in by_id[corpus.video.pk].excerpt_html


def test_item_text_is_escaped_in_snippets(corpus):
    (hit,) = search_items("乡村治理").items

    assert hit.title_html == "<mark>乡村治理</mark>&lt;b&gt;新样本&lt;/b&gt;"
    assert "1 &lt; 2 &amp; 少数服从多数" in hit.excerpt_html
    assert "<b>" not in hit.excerpt_html


def test_a_long_body_is_cut_around_the_first_match(corpus):
    body = "前言。" * 40 + "黄河安澜是中华儿女的千年期盼。" + "结语。" * 40
    item = make_item(corpus.meeting.column, title="一篇长文", body=f"<p>{body}</p>")

    (hit,) = search_items("黄河安澜").items
    assert hit.item == item
    assert hit.excerpt_html.startswith("…")
    assert hit.excerpt_html.endswith("…")
    assert "<mark>黄河安澜</mark>是中华儿女" in hit.excerpt_html
    plain = hit.excerpt_html.replace("<mark>", "").replace("</mark>", "")
    assert len(plain) == 80 + 2


# --- refusals and odd input ------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\u3000\n"])
def test_an_empty_query_is_refused_in_chinese(corpus, query):
    with pytest.raises(ValidationFailed) as refused:
        search_items(query)
    assert refused.value.details["fields"] == {"q": "请输入要搜索的内容。"}


def test_a_query_over_fifty_characters_is_refused(corpus):
    assert search_items("乡" * 50).items == []
    with pytest.raises(ValidationFailed) as refused:
        search_items("乡" * 51)
    assert refused.value.details["fields"] == {"q": "搜索内容不能超过 50 个字。"}


@pytest.mark.parametrize(
    "query", ["！？。，", "……", "%", "_", '"', "*", "'", "\\", "-", ":", "()", "&|!", "<>"]
)
def test_a_query_of_punctuation_finds_nothing(corpus, query):
    page = search_items(query)

    assert page.items == []
    assert page.next_cursor is None
    assert suggest(query) == []


@pytest.mark.parametrize(
    "query",
    [
        '"乡村" OR 振兴*',
        "乡村 AND NOT 振兴",
        "振兴:*",
        "乡村 & !振兴",
        "NEAR(乡村 振兴)",
        "x'y",
        "5\\",
    ],
)
def test_full_text_syntax_in_a_query_is_taken_literally(corpus, query):
    search_items(query)  # no error: each word is quoted for the engine
    suggest(query)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=60))
def test_no_query_text_makes_the_database_fail(corpus, query):
    try:
        search_items(query)
        suggest(query)
    except ValidationFailed:
        pass


# --- keeping up with edits -------------------------------------------------------------------


def test_an_edit_and_a_deletion_show_in_the_results_at_once(corpus):
    editor = UserFactory.create()
    assert corpus.yellow_river.pk in found("黄河")

    item_update(
        actor=editor,
        item=corpus.yellow_river,
        data={"title": "长江经济带绿色发展", "body": "<p>共抓大保护，不搞大开发。</p>"},
    )
    assert found("黄河") == []
    assert found("长江") == [corpus.yellow_river.pk]
    assert found("大保护") == [corpus.yellow_river.pk]

    item_update(actor=editor, item=corpus.yellow_river, data={"status": ItemStatus.WITHDRAWN})
    assert found("长江") == []

    corpus.socialism.delete()
    assert found("社会主义") == []


def test_counters_written_beside_the_text_leave_the_index_intact(corpus):
    Item.objects.filter(pk=corpus.gdp.pk).update(read_count=99)

    assert found("GDP") == [corpus.gdp.pk]


# --- pages -----------------------------------------------------------------------------------


def test_pages_follow_each_other_without_gaps_or_repeats(corpus):
    everything = found("乡村")
    seen: list[int] = []
    cursor = None
    while True:
        page = search_items("乡村", limit=2, cursor=cursor)
        seen += [hit.item.pk for hit in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == everything


def test_results_end_after_the_last_page(corpus, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_PAGES", 2)

    first = search_items("乡村", limit=1)
    second = search_items("乡村", limit=1, cursor=first.next_cursor)
    assert len(second.items) == 1
    assert second.next_cursor is None


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMV0", "WyJhIiwyXQ", "W10", "e30", "WzAsMl0"])
def test_a_forged_cursor_is_refused(corpus, cursor):
    with pytest.raises(ValidationFailed):
        search_items("乡村", cursor=cursor)


def test_a_search_costs_two_queries_and_a_suggestion_one(corpus, django_assert_num_queries):
    with django_assert_num_queries(2):
        search_items("乡村振兴")
    with django_assert_num_queries(1):
        suggest("乡村")


# --- search as you type ----------------------------------------------------------------------


def test_suggestions_are_titles_holding_the_typed_words_newest_first(corpus):
    assert [s.title for s in suggest("数字乡")] == ["数字乡村建设取得新进展"]
    titles = [s.title for s in suggest("乡")]
    assert titles[0] == "短视频：乡村振兴的青春力量"  # the newest
    assert "农业农村工作会议召开" not in titles  # 乡村 only in its body
    assert "乡村振兴规划（草稿）" not in titles
    assert suggest("振")[1].title_html == "全面推进乡村<mark>振</mark>兴 加快建设农业强国"
    assert suggest("") == []
    assert len(suggest("乡", limit=2)) == 2


def test_a_title_is_suggested_once(corpus):
    for _copy in range(3):
        make_item(corpus.meeting.column, title="学习贯彻党的二十大精神", body="<p>学习。</p>")

    assert [s.title for s in suggest("二十大")] == ["学习贯彻党的二十大精神"]


# --- the indexes -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_the_sqlite_triggers_survive_every_migration():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'content_item'"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"content_item_fts_insert", "content_item_fts_update", "content_item_fts_delete"} <= (
        triggers
    ), (
        "A migration rebuilt content_item on SQLite and dropped the full-text triggers: "
        "create them again in that migration (see content/migrations/0002_search.py)."
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's")
def test_the_sqlite_queries_are_driven_by_the_full_text_table(corpus):
    # Left to itself SQLite walks the newest items and asks FTS5 about each one: 4 to 7 s over
    # 20,000 articles instead of 50 ms.
    with CaptureQueriesContext(connection) as queries:
        search_items("乡村振兴")
        suggest("乡村")
    for statement in (queries[0]["sql"], queries[-1]["sql"]):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}")
            plan = [row[-1] for row in cursor.fetchall()]
        scans = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
        assert scans[0].startswith("SCAN content_item_fts VIRTUAL TABLE"), plan
        assert "USING INTEGER PRIMARY KEY" in scans[1], plan


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's")
def test_the_postgresql_query_can_use_the_gin_index():
    # The selectors' own expressions: the test fails if they drift from the index's.
    match = f"{selectors._PG_VECTOR.format('i')} @@ {selectors._PG_QUERY}"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT i.id FROM content_item AS i WHERE {match}",  # noqa: S608
            [pg_tsquery(["乡村", "振兴"])],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_search" in plan


# --- the pieces, without a database ----------------------------------------------------------


def test_query_words_drop_punctuation_and_keep_the_typed_word_last():
    assert query_words("乡村振兴！") == ["乡村", "振兴"]
    assert query_words("振兴 乡村 振兴") == ["乡村", "振兴"]
    # 社会主义 is covered by its parts, which every text holding it holds too.
    assert query_words("社会主义") == ["社会", "会主", "主义"]
    assert query_words("中华人民共") == ["中华", "华人", "人民", "共"]
    assert query_words("“”……%_") == []


def test_engine_queries_quote_every_word():
    assert pg_tsquery(["乡村", "it's", "a\\b"]) == "'乡村' & 'it''s' & 'a\\\\b':*"
    assert fts5_query(['say"', "乡"]) == '"say""" AND "乡" *'


def test_highlighting_escapes_the_text_and_marks_whole_latin_words():
    pattern = term_pattern(["ai", "社会", "社会主义", "py"])

    assert highlight("AI 社会主义 maintain <b>", pattern) == (
        "<mark>AI</mark> <mark>社会主义</mark> maintain &lt;b&gt;"
    )
    assert highlight("社会主义AI", pattern) == "<mark>社会主义AI</mark>"  # adjacent: one mark
    assert highlight("python", pattern) == "<mark>py</mark>thon"  # the last word: a prefix
    assert highlight("<mark>", term_pattern(["mark"])) == "&lt;<mark>mark</mark>&gt;"


def test_an_excerpt_is_about_eighty_characters_around_the_first_match():
    text = "甲" * 100 + "黄河" + "乙" * 100
    cut = excerpt(text, term_pattern(["黄河"]))

    assert cut == "…" + "甲" * 20 + "<mark>黄河</mark>" + "乙" * 58 + "…"
    assert excerpt("短文", term_pattern(["黄河"])) == "短文"
    assert excerpt("甲" * 90, term_pattern(["黄河"])) == "甲" * 80 + "…"
