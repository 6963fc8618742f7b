"""The quiz benchmark: attempts started, answers graded, attempts finished and challenge rounds
per second through ``xuexi.quizzes.services``, beside a plain indexed ``SELECT`` of the same
questions through psycopg at the same concurrency in the same run.

    python -m bench.quizzes --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench_quiz \\
        [--threads 2,4] [--repeat 3] [--questions 100000] [--members 120] [--clean]

Runs against a database made by ``bench.generate`` (``make bench`` gives it a database of its
own, ``BENCH_QUIZ_DATABASE_URL``); its members answer. Three steps:

**Data.** A bank of ``--questions`` (100,000) active questions in the demo bank's eight
categories, each with its one ``QuestionVersion``, composed from the 321 questions of
``xuexi/quizzes/demo_bank`` (read by ``demo.bank_files`` and checked by
``bank.question_clean``): each bench question takes a demo question's type, stem, explanation,
hint and provenance — so the four types come in the demo's mix and the texts have its lengths —
with its options shuffled (the answer keys follow). Written with ``COPY`` in one transaction,
then ``VACUUM ANALYZE``. A JSON comment on ``quizzes_question`` marks the data: a later run
reuses it when the size, seed and builder version match; ``--clean`` removes it. It refuses to
run when the quiz tables hold rows it did not write, or the points ledger entries other than
the quiz finishes it pays.

**Measures.** For N = 2 and 4 threads (``--threads``), each with its own database connection
and its own fresh members (never used by an earlier run): (a) ``attempt_start`` of two daily
quizzes per member (five questions drawn at random by ``draw_key``, the second set avoiding the
first: the member's recent questions); (b) ``attempt_answer`` of every question of those
attempts, 70 % right and 30 % wrong (a wrong answer goes to the wrong-answer book); (c)
``attempt_finish`` of each (paying ``daily_quiz`` through ``points_award``, the second of a
member's day mostly capped); (d) a challenge round: ``attempt_start``, four right answers (each
issuing the next question), one wrong answer, ``attempt_finish``. Each beside its anchor: one
autocommitted ``SELECT … FROM quizzes_questionversion WHERE id = ANY(…)`` through psycopg per
call, of the same questions as many rows a call (5 for a daily start or finish, 1 for an answer
and for each call of a round). Median calls/s of ``--repeat`` runs after one warm-up run, the
ratio to the anchor and the p50/p99 latency of one call.

**Clean-up** at the end, also after a failure or Ctrl-C: every attempt, attempt question and
wrong-answer row, the ledger entries the finishes paid (``source_type`` ``quiz_attempt``:
deleted with SQL, the ledger is append-only in the ORM) and the points counters. The bank
stays for the next run (``--clean`` removes it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from bench import common
from bench.common import machine
from bench.generate import copy_rows, copy_text, extra_columns, sequences_past_ids
from bench.points import OfRuns, Run, threaded

if TYPE_CHECKING:
    from xuexi.accounts.models import User

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/xuexi_bench_quiz"
MARKER = "xuexi_bench_quiz"
BUILDER_VERSION = 1
SEED = 20190102
QUESTIONS = 100_000
REPEAT = 3
THREADS = (2, 4)
MEMBERS_PER_RUN = 120  # × 2 daily quizzes × 5 questions = 1,200 answers per run
DAILY_PER_MEMBER = 2
RIGHT_SHARE = 0.7
CHALLENGE_RIGHT = 4  # right answers in a round before the wrong one
LEDGER_SOURCE = "quiz_attempt"  # what attempt_finish writes (services.attempt_finish)

QUESTION_COLUMNS = [
    "id", "type", "tags", "difficulty", "status", "supplier", "recommender", "origin",
    "draw_key", "created_at", "updated_at", "category_id", "created_by_id", "current_id",
]  # fmt: skip
VERSION_COLUMNS = [
    "id", "number", "stem", "options", "answer", "explanation", "hint", "created_at",
    "hint_item_id", "question_id",
]  # fmt: skip
BANK_TABLES = ("quizzes_category", "quizzes_question", "quizzes_questionversion")
PAPER_TABLES = ("quizzes_paper", "quizzes_paperquestion")
ATTEMPT_TABLES = ("quizzes_attemptquestion", "quizzes_wronganswer", "quizzes_attempt")


# --- the bank -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A demo question as ``bank.question_clean`` stores it, and its category's number."""

    category: int
    type: str
    stem: str
    options: list[dict[str, str]]
    answer: Any
    explanation: str
    hint: str
    difficulty: int
    tags: str
    supplier: str
    recommender: str
    origin: str


def demo_shapes() -> tuple[list[str], list[Shape]]:
    """The demo bank's category names and questions, checked by the bank service's cleaner."""
    from xuexi.quizzes import bank, demo
    from xuexi.quizzes.models import Category

    names, shapes = [], []
    for number, file in enumerate(demo.bank_files(), start=1):
        names.append(file.category)
        category = Category(pk=number, name=file.category, position=file.position)
        for question in file.questions:
            clean = bank.question_clean(
                {**demo.question_data(file, question), "category": category}
            )
            shapes.append(
                Shape(
                    number, clean.type, clean.stem, clean.options, clean.answer,
                    clean.explanation, clean.hint, clean.difficulty, clean.tags, clean.supplier,
                    clean.recommender, clean.origin,
                )
            )  # fmt: skip
    return names, shapes


def shuffled(shape: Shape, rng: random.Random) -> tuple[list[dict[str, str]], Any]:
    """The shape's options in another order, keyed A, B, … again, and the answer that follows."""
    if shape.type not in ("single", "multiple"):
        return shape.options, shape.answer
    texts = [option["text"] for option in shape.options]
    right = {option["text"] for option in shape.options if option["key"] in shape.answer}
    rng.shuffle(texts)
    keys = "ABCDEFGH"
    options = [{"key": keys[i], "text": text} for i, text in enumerate(texts)]
    return options, sorted(o["key"] for o in options if o["text"] in right)


def bank_rows(
    shapes: Sequence[Shape], count: int, at: dt.datetime, suffixes: tuple[str, str]
) -> tuple[Iterator[str], Iterator[str], Tally[str]]:
    """COPY lines of ``count`` questions and their versions (id = the question's id)."""
    rng = random.Random(SEED)
    picks = [rng.choice(shapes) for _ in range(count)]
    orders = [shuffled(shape, rng) for shape in picks]
    keys = [rng.random() for _ in range(count)]
    stamp = copy_text(at)
    types = Tally(shape.type for shape in picks)

    def questions() -> Iterator[str]:
        for number, shape in enumerate(picks, start=1):
            yield "\t".join(
                copy_text(value)
                for value in (
                    number, shape.type, shape.tags, shape.difficulty, "active", shape.supplier,
                    shape.recommender, shape.origin, keys[number - 1], at, at, shape.category,
                    None, number,
                )
            ) + suffixes[0] + "\n"  # fmt: skip

    def versions() -> Iterator[str]:
        for number, shape in enumerate(picks, start=1):
            options, answer = orders[number - 1]
            yield "\t".join(
                (
                    str(number), "1", copy_text(shape.stem),
                    copy_text(json.dumps(options, ensure_ascii=False)),
                    copy_text(json.dumps(answer, ensure_ascii=False)),
                    copy_text(shape.explanation), copy_text(shape.hint), stamp, "\\N",
                    str(number),
                )
            ) + suffixes[1] + "\n"  # fmt: skip

    return questions(), versions(), types


def read_marker(conn: psycopg.Connection[Any]) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT obj_description('quizzes_question'::regclass, 'pg_class')"
    ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        marker = json.loads(row[0])
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and marker.get(MARKER) else None


def count_rows(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def refuse_foreign(conn: psycopg.Connection[Any], marker: dict[str, Any] | None) -> None:
    """Stop unless every row of the quiz tables and of the ledger is the benchmark's: the bank
    its marker describes, attempts (left by an interrupted run), quiz finishes in the ledger."""
    foreign = [table for table in PAPER_TABLES if count_rows(conn, table)]
    if marker is None:
        foreign += [table for table in BANK_TABLES + ATTEMPT_TABLES if count_rows(conn, table)]
    else:
        expected = {
            "quizzes_category": marker["categories"],
            "quizzes_question": marker["questions"],
            "quizzes_questionversion": marker["questions"],
        }
        foreign += [table for table, rows in expected.items() if count_rows(conn, table) != rows]
    row = conn.execute(
        "SELECT count(*) FROM points_ledgerentry WHERE source_type <> %s", [LEDGER_SOURCE]
    ).fetchone()
    if row and row[0]:
        foreign.append(f"points_ledgerentry ({row[0]:,} entries)")
    if foreign:
        raise SystemExit(
            f"bench.quizzes: {', '.join(foreign)} hold rows the benchmark did not write: use a "
            "database of its own (python -m bench.generate … xuexi_bench_quiz) rather than let "
            "it delete them"
        )


def clean_attempts(url: str) -> str:
    """Remove what the measures wrote: attempts, their questions, the wrong-answer book, the
    ledger entries of the finishes and the counters (the ledger holds nothing else: checked)."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        refuse_foreign(conn, read_marker(conn))
        counts = {}
        with conn.transaction():
            for table in ATTEMPT_TABLES:
                counts[table] = conn.execute(
                    sql.SQL("DELETE FROM {}").format(sql.Identifier(table))
                ).rowcount
            counts["points_ledgerentry"] = conn.execute(
                "DELETE FROM points_ledgerentry WHERE source_type = %s", [LEDGER_SOURCE]
            ).rowcount
            counts["points_counter"] = conn.execute("DELETE FROM points_counter").rowcount
        if any(counts.values()):
            tables = [*ATTEMPT_TABLES, "points_ledgerentry", "points_counter"]
            conn.execute(
                sql.SQL("VACUUM (ANALYZE) {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, tables))
                )
            )
    removed = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    return f"removed {removed} in {time.perf_counter() - started:.1f} s"


def clean_bank(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if read_marker(conn) is None:
            refuse_foreign(conn, None)
            print("bench.quizzes: no bench question bank to remove")
            return
    print(f"bench.quizzes: {clean_attempts(url)}")
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # nothing refers to them
            for table in ("quizzes_question", "quizzes_questionversion", "quizzes_category"):
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            conn.execute("COMMENT ON TABLE quizzes_question IS NULL")
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(
                sql.SQL(", ").join(map(sql.Identifier, BANK_TABLES))
            )
        )
    print(
        f"bench.quizzes: removed the bench question bank in {time.perf_counter() - started:.1f} s"
    )


def build(url: str, count: int) -> dict[str, Any]:
    """Write the bank in one transaction; returns the marker left on quizzes_question."""
    from xuexi.core.time import now
    from xuexi.quizzes.models import Category, Question, QuestionVersion

    started = time.perf_counter()
    at = now().replace(microsecond=0)
    names, shapes = demo_shapes()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        # Consistent by construction (ids written here): no per-row foreign-key triggers.
        cur.execute("SET LOCAL session_replication_role = replica")
        cat_extra, cat_suffix = extra_columns(cur, Category, ["id", "name", "position"])
        q_extra, q_suffix = extra_columns(cur, Question, QUESTION_COLUMNS)
        v_extra, v_suffix = extra_columns(cur, QuestionVersion, VERSION_COLUMNS)
        copy_rows(
            cur,
            "quizzes_category",
            ["id", "name", "position", *cat_extra],
            (f"{i}\t{copy_text(name)}\t{i}{cat_suffix}\n" for i, name in enumerate(names, 1)),
            freeze=False,
        )
        questions, versions, types = bank_rows(shapes, count, at, (q_suffix, v_suffix))
        copy_rows(cur, "quizzes_question", QUESTION_COLUMNS + q_extra, questions, freeze=False)
        copy_rows(cur, "quizzes_questionversion", VERSION_COLUMNS + v_extra, versions, freeze=False)
        sequences_past_ids(cur, BANK_TABLES)
        marker = {
            MARKER: True,
            "version": BUILDER_VERSION,
            "seed": SEED,
            "questions": count,
            "categories": len(names),
            "types": dict(sorted(types.items())),
            "built": at.date().isoformat(),
        }
        cur.execute(
            sql.SQL("COMMENT ON TABLE quizzes_question IS {}").format(
                sql.Literal(json.dumps(marker))
            )
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("VACUUM (ANALYZE) {}").format(
                sql.SQL(", ").join(map(sql.Identifier, BANK_TABLES))
            )
        )
    print(
        f"bench.quizzes: wrote {count:,} questions and versions ({len(shapes)} demo shapes, "
        f"{', '.join(f'{k} {v:,}' for k, v in sorted(types.items()))}) with COPY in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return marker


def bank_ready(url: str, count: int) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        marker = read_marker(conn)
        refuse_foreign(conn, marker)
        wanted = {"version": BUILDER_VERSION, "seed": SEED, "questions": count}
        if marker is not None and all(marker.get(k) == v for k, v in wanted.items()):
            print(f"bench.quizzes: reusing the {count:,} questions built on {marker['built']}")
            return marker
    if marker is not None:
        print("bench.quizzes: the bank was built for another size or version: rebuilding")
        clean_bank(url)
    return build(url, count)


# --- answering as a member would ------------------------------------------------------------


class Answers:
    """The right (and a wrong) answer to an issued question, from what the member sees: the
    stem and the options in their order identify the demo shape and the shuffle."""

    def __init__(self, shapes: Sequence[Shape]) -> None:
        self.by_stem = {(shape.type, shape.stem): shape for shape in shapes}

    def right(self, issued: Any) -> list[str]:
        shape = self.by_stem[(issued.type, issued.stem)]
        if shape.type == "fill":
            return [variants[0] for variants in shape.answer]
        if shape.type == "true_false":
            return list(shape.answer)
        right = {o["text"] for o in shape.options if o["key"] in shape.answer}
        return [o["key"] for o in issued.options if o["text"] in right]

    def wrong(self, issued: Any) -> list[str]:
        right = self.right(issued)
        if issued.type == "fill":
            return ["答错了" for _ in right]
        keys = [o["key"] for o in issued.options]
        if issued.type == "multiple":
            return right[:1]  # a right option, but not all of them
        return [next(key for key in keys if key not in right)]


# --- the measures ---------------------------------------------------------------------------


@dataclass
class Lane:
    """One thread's members and what the earlier phases of the run left it."""

    members: list[User]
    attempts: list[tuple[User, int]]


@dataclass(frozen=True)
class Result(OfRuns):
    measure: str
    name: str
    threads: int
    runs: list[Run]
    rows: int  # questions read per call by the anchor


Phase = tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]


def _close(_state: object) -> None:
    from django.db import connections

    connections.close_all()


def start_phase(lanes: list[Lane]) -> Phase:
    """(a) two daily attempts per member, each with its questions as the response shows them;
    records the attempts in the lane."""
    from django.db import connection

    from xuexi.quizzes.services import attempt_questions, attempt_start

    def prepare(chunk: Sequence[int]) -> int:
        connection.ensure_connection()
        return chunk[0]

    def work(lane_index: int, latencies: list[float], outcomes: Tally[str]) -> None:
        lane = lanes[lane_index]
        for _round in range(DAILY_PER_MEMBER):
            for member in lane.members:
                began = time.perf_counter()
                attempt = attempt_start(member=member, kind="daily")
                attempt_questions(attempt)  # what the start's response shows
                latencies.append(time.perf_counter() - began)
                lane.attempts.append((member, attempt.pk))
                outcomes["started"] += 1

    return prepare, work, _close


def versions_of(attempt_ids: Sequence[int]) -> list[list[int]]:
    """The question versions issued in each attempt, in the attempts' order (untimed)."""
    from xuexi.quizzes.models import AttemptQuestion

    by_attempt: dict[int, list[int]] = {}
    rows = AttemptQuestion.objects.filter(attempt_id__in=attempt_ids).order_by("position")
    for attempt_id, version_id in rows.values_list("attempt_id", "version_id"):
        by_attempt.setdefault(attempt_id, []).append(version_id)
    return [by_attempt[pk] for pk in attempt_ids]


def answer_phase(lanes: list[Lane], answers: Answers, rng: random.Random) -> Phase:
    """(b) every question of the lane's attempts, ``RIGHT_SHARE`` right."""
    from django.db import connection

    from xuexi.quizzes.models import Attempt
    from xuexi.quizzes.services import attempt_answer, attempt_questions

    def prepare(chunk: Sequence[int]) -> list[tuple[User, int, int, list[str]]]:
        connection.ensure_connection()
        calls = []
        for member, attempt_id in lanes[chunk[0]].attempts:
            for issued in attempt_questions(Attempt.objects.get(pk=attempt_id)):
                right = rng.random() < RIGHT_SHARE
                given = answers.right(issued) if right else answers.wrong(issued)
                calls.append((member, attempt_id, issued.id, given))
        return calls

    def work(calls: list[Any], latencies: list[float], outcomes: Tally[str]) -> None:
        for member, attempt_id, question_id, given in calls:
            began = time.perf_counter()
            result = attempt_answer(
                member=member, attempt_id=attempt_id, question_id=question_id, answer=given
            )
            latencies.append(time.perf_counter() - began)
            outcomes["right" if result.correct else "wrong"] += 1

    return prepare, work, _close


def finish_phase(lanes: list[Lane]) -> Phase:
    """(c) finish every attempt of the lane (pays through points_award)."""
    from django.db import connection

    from xuexi.quizzes.services import attempt_finish

    def prepare(chunk: Sequence[int]) -> Lane:
        connection.ensure_connection()
        return lanes[chunk[0]]

    def work(lane: Lane, latencies: list[float], outcomes: Tally[str]) -> None:
        for member, attempt_id in lane.attempts:
            began = time.perf_counter()
            result = attempt_finish(member=member, attempt_id=attempt_id)
            latencies.append(time.perf_counter() - began)
            outcomes["paid" if result.points_awarded else "nothing paid"] += 1

    return prepare, work, _close


def challenge_phase(lanes: list[Lane], answers: Answers, rounds: list[list[int]]) -> Phase:
    """(d) per member one challenge round: start, four right answers, one wrong, finish."""
    from django.db import connection

    from xuexi.quizzes.services import (
        attempt_answer,
        attempt_finish,
        attempt_questions,
        attempt_start,
    )

    def prepare(chunk: Sequence[int]) -> int:
        connection.ensure_connection()
        return chunk[0]

    def started(member: User) -> tuple[Any, list[Any]]:
        """A round's start as its response shows it: the attempt and its first question."""
        attempt = attempt_start(member=member, kind="challenge")
        return attempt, attempt_questions(attempt)

    def work(lane_index: int, latencies: list[float], outcomes: Tally[str]) -> None:
        def call(work: Callable[[], Any]) -> Any:
            began = time.perf_counter()
            answer = work()
            latencies.append(time.perf_counter() - began)
            outcomes["calls"] += 1
            return answer

        for member in lanes[lane_index].members:
            attempt, shown = call(partial(started, member))
            current = shown[0]  # what the start's response shows
            for index in range(CHALLENGE_RIGHT + 1):
                given = (
                    answers.right(current) if index < CHALLENGE_RIGHT else answers.wrong(current)
                )
                result = call(
                    partial(
                        attempt_answer,
                        member=member,
                        attempt_id=attempt.pk,
                        question_id=current.id,
                        answer=given,
                    )
                )
                if result.next_question is None:
                    break
                current = result.next_question
            call(partial(attempt_finish, member=member, attempt_id=attempt.pk))
            rounds[lane_index].append(attempt.pk)

    return prepare, work, _close


ANCHOR_SQL = (
    "SELECT id, stem, options, answer, explanation, hint FROM quizzes_questionversion"
    " WHERE id = ANY(%s)"
)


def anchor_phase(url: str, calls: list[list[list[int]]]) -> Phase:
    """One autocommitted indexed SELECT of the given version ids per call, through psycopg."""

    def prepare(chunk: Sequence[int]) -> tuple[psycopg.Connection[Any], list[list[int]]]:
        return psycopg.connect(url, autocommit=True), calls[chunk[0]]

    def work(
        state: tuple[psycopg.Connection[Any], list[list[int]]],
        latencies: list[float],
        outcomes: Tally[str],
    ) -> None:
        conn, ids = state
        with conn.cursor() as cursor:
            for call in ids:
                began = time.perf_counter()
                cursor.execute(ANCHOR_SQL, (call,))
                rows = cursor.fetchall()
                latencies.append(time.perf_counter() - began)
                outcomes["select" if rows else "no rows"] += 1

    def finish(state: tuple[psycopg.Connection[Any], list[list[int]]] | None) -> None:
        if state is not None:
            state[0].close()

    return prepare, work, finish


def one_run(
    url: str, pool: Iterator[User], n: int, members: int, answers: Answers, rng: random.Random
) -> dict[str, tuple[Run, Run]]:
    """One run of the four measures with fresh members; (service, anchor) per measure."""
    users = [next(pool) for _ in range(members)]
    lanes = [Lane(users[i::n], []) for i in range(n)]
    chunks = [[i] for i in range(n)]
    runs: dict[str, tuple[Run, Run]] = {}
    start = threaded(chunks, *start_phase(lanes))
    picked = [versions_of([pk for _m, pk in lane.attempts]) for lane in lanes]
    runs["start"] = (start, threaded(chunks, *anchor_phase(url, picked)))
    answer = threaded(chunks, *answer_phase(lanes, answers, rng))
    singles = [[[pk] for call in lane for pk in call] for lane in picked]
    runs["answer"] = (answer, threaded(chunks, *anchor_phase(url, singles)))
    finish = threaded(chunks, *finish_phase(lanes))
    runs["finish"] = (finish, threaded(chunks, *anchor_phase(url, picked)))
    round_ids: list[list[int]] = [[] for _ in range(n)]
    challenge = threaded(chunks, *challenge_phase(lanes, answers, round_ids))
    round_picked = [versions_of(ids) for ids in round_ids]
    # One single-row SELECT per call of a round: the start's question, each answer's next
    # question (the wrong one's own), the finish's.
    rounds = [
        [[ids[min(i, len(ids) - 1)]] for ids in lane for i in range(CHALLENGE_RIGHT + 3)]
        for lane in round_picked
    ]
    runs["challenge"] = (challenge, threaded(chunks, *anchor_phase(url, rounds)))
    return runs


MEASURES = {
    "start": ("attempt_start (daily, 5 drawn)", 5),
    "answer": ("attempt_answer (70 % right)", 1),
    "finish": ("attempt_finish (pays points)", 5),
    "challenge": ("challenge round (start, 5 answers, finish)", 1),
}


def bench(
    url: str, threads: Sequence[int], members: int, times: int, shapes: Sequence[Shape]
) -> list[Result]:
    from bench.points import registered_members
    from xuexi.accounts.models import User

    ids = [member for member, _org in registered_members(url)]
    random.Random(11).shuffle(ids)
    needed = members * (times + 1) * len(threads)
    chosen = ids[:needed]
    users = {user.pk: user for user in User.objects.filter(pk__in=chosen)}
    pool = iter(users[pk] for pk in chosen)
    answers = Answers(shapes)
    rng = random.Random(5)
    results = []
    for n in threads:
        one_run(url, pool, n, members, answers, rng)  # warm-up
        runs = [one_run(url, pool, n, members, answers, rng) for _ in range(times)]
        for key, (label, rows) in MEASURES.items():
            service = [run[key][0] for run in runs]
            anchor = [run[key][1] for run in runs]
            results.append(Result(key, label, n, service, rows))
            results.append(
                Result(
                    key,
                    f"anchor: SELECT {rows} row{'s' if rows > 1 else ''} by id",
                    n,
                    anchor,
                    rows,
                )
            )
            print(
                f"  {label:<44} {n} threads: "
                + ", ".join(f"{r.rate:,.0f}/s" for r in service)
                + "; anchor "
                + ", ".join(f"{r.rate:,.0f}/s" for r in anchor),
                flush=True,
            )
    return results


def print_results(results: Sequence[Result], heading: str) -> None:
    print(f"\n{heading}\n")
    anchors = {(r.measure, r.threads): r.rate for r in results if r.name.startswith("anchor")}

    def calls(result: Result) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in sorted(result.outcomes.items()) if k != "rows")

    common.print_rates(
        results,
        lambda result: anchors[(result.measure, result.threads)],
        calls,
        "calls (all runs)",
    )


def table_sizes(url: str) -> str:
    """Rows (and size on disk) of the bank's and the attempts' tables."""
    tables = [*BANK_TABLES, *ATTEMPT_TABLES]
    with psycopg.connect(url) as conn:
        parts = []
        for table in tables:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), pg_size_pretty(pg_total_relation_size(%s::regclass)) FROM {}"
                ).format(sql.Identifier(table)),
                [table],
            ).fetchone()
            parts.append(f"{table} {row[0]:,} rows ({row[1]})" if row else table)
    return ", ".join(parts)


def run(args: argparse.Namespace, meta: dict[str, Any]) -> None:
    from bench.points import ruleset_ready

    marker = bank_ready(args.database_url, args.questions)
    print(f"bench.quizzes: {clean_attempts(args.database_url)}", flush=True)  # leftovers
    _ruleset_id, spec = ruleset_ready()
    _names, shapes = demo_shapes()
    try:
        sizes = table_sizes(args.database_url)
        print("\nbench.quizzes: calls/s of each timed run (service; anchor)", flush=True)
        results = bench(args.database_url, args.threads, args.members, args.repeat, shapes)
        after = table_sizes(args.database_url)
        types = ", ".join(f"{k} {v:,}" for k, v in marker["types"].items())
        print_results(
            results,
            f"quizzes — scale {meta.get('scale', '?')}: {meta.get('users', 0):,} users; "
            f"{marker['questions']:,} active questions ({types}) in {marker['categories']} "
            f"categories; rule set {spec.code}; {args.members} fresh members per run × "
            f"{DAILY_PER_MEMBER} daily quizzes and 1 challenge round; median of {args.repeat} "
            f"runs after one warm-up; {machine()}\n\nsizes before: {sizes}\nsizes after: {after}",
        )
    finally:
        print(f"\nbench.quizzes: {clean_attempts(args.database_url)}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.bench_parser(
        "bench.quizzes", __doc__, env="BENCH_QUIZ_DATABASE_URL", default=DEFAULT_DATABASE_URL
    )
    common.add_run_options(parser, threads=THREADS, members=MEMBERS_PER_RUN, repeat=REPEAT)
    parser.add_argument("--questions", type=int, default=QUESTIONS, help=f"default {QUESTIONS:,}")
    parser.add_argument("--clean", action="store_true", help="remove the bench bank and stop")
    args = parser.parse_args(argv)
    meta = common.generated_data(parser, args.database_url)
    os.environ.pop("REDIS_URL", None)  # the local memory cache, as bench.points without Redis
    common.django_ready(parser, args.database_url)
    if args.clean:
        clean_bank(args.database_url)
        return
    run(args, meta)


if __name__ == "__main__":
    main(sys.argv[1:])
