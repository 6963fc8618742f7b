"""The question bank, fixed papers (weekly sets, special papers) and attempts.

A question's wording, options and answer live in numbered, immutable ``QuestionVersion`` rows:
editing an active question writes a new version, and an attempt keeps the versions it was
asked, so it is graded against what the member saw. Answers are JSON:

- single / true-false: ``["B"]`` (true-false options are ``T`` 正确 and ``F`` 错误);
- multiple: ``["A", "C"]`` (order does not matter; all and only the right keys);
- fill-in: one list of accepted variants per blank, ``[["新时代", "新的时代"], ["中国"]]``;
  the member answers one string per blank, compared after normalising (``grading.py``).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xuexi.content.models import Item


class QuestionType(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    TRUE_FALSE = "true_false", _("判断题")
    FILL = "fill", _("填空题")


class QuestionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("启用")
    RETIRED = "retired", _("停用")


class Category(models.Model):
    name = models.CharField(_("名称"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = pgettext_lazy("model", "题目分类")
        verbose_name_plural = pgettext_lazy("model plural", "题目分类")
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """A question of the bank; what it asks is its ``current`` version."""

    type = models.CharField(_("题型"), max_length=12, choices=QuestionType.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="questions"
    )
    tags = models.CharField(_("标签"), max_length=200, blank=True)
    difficulty = models.PositiveSmallIntegerField(_("难度"), default=2)  # 1 easy … 5 hard
    status = models.CharField(
        _("状态"), max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.DRAFT
    )
    # Provenance: who supplied and recommended it, and where it comes from (出处).
    supplier = models.CharField(_("供题单位"), max_length=60, blank=True)
    recommender = models.CharField(_("推荐人"), max_length=60, blank=True)
    origin = models.CharField(_("出处"), max_length=120, blank=True)
    current = models.ForeignKey(
        "QuestionVersion",
        verbose_name=_("当前版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A random key for drawing questions without ORDER BY random() over the whole bank.
    draw_key = models.FloatField(default=0.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "题目")
        verbose_name_plural = pgettext_lazy("model plural", "题目")
        indexes: ClassVar = [
            models.Index(
                fields=["draw_key"], condition=Q(status="active"), name="question_active_draw"
            ),
            models.Index(fields=["category", "status"], name="question_category_status"),
        ]

    def __str__(self) -> str:
        return f"{self.pk}"


class QuestionVersion(models.Model):
    """What a question asked at one time; never changed once an attempt may have used it."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本"))
    stem = models.TextField(_("题干"))
    options = models.JSONField(_("选项"), default=list)  # [{"key": "A", "text": "…"}, …]
    answer = models.JSONField(_("答案"))
    explanation = models.TextField(_("解析"), blank=True)
    hint = models.TextField(_("出题依据"), blank=True)  # the source passage shown as the hint
    hint_item = models.ForeignKey(
        Item,
        verbose_name=_("出处文章"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "题目版本")
        verbose_name_plural = pgettext_lazy("model plural", "题目版本")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["question", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.question_id} v{self.number}"


class PaperKind(models.TextChoices):
    WEEKLY = "weekly", _("每周答题")
    SPECIAL = "special", _("专项答题")


class Paper(models.Model):
    """A fixed set of questions: a weekly set or a special paper, published by operators."""

    kind = models.CharField(_("类型"), max_length=10, choices=PaperKind.choices)
    title = models.CharField(_("名称"), max_length=80)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    time_limit = models.PositiveIntegerField(_("限时（秒）"), default=0)  # 0: none
    is_published = models.BooleanField(_("已发布"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "试卷")
        verbose_name_plural = pgettext_lazy("model plural", "试卷")
        indexes: ClassVar = [models.Index(fields=["kind", "-opens_at"], name="paper_kind_opens")]

    def __str__(self) -> str:
        return self.title


class PaperQuestion(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="slots")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("position",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["paper", "position"], name="one_question_per_slot"),
            models.UniqueConstraint(fields=["paper", "question"], name="question_once_per_paper"),
        ]

    def __str__(self) -> str:
        return f"{self.paper_id}#{self.position}"


class AttemptKind(models.TextChoices):
    DAILY = "daily", _("每日答题")
    WEEKLY = "weekly", _("每周答题")
    SPECIAL = "special", _("专项答题")
    CHALLENGE = "challenge", _("挑战答题")
    PRACTICE = "practice", _("错题练习")  # from the wrong-answer book; never scores


class AttemptState(models.TextChoices):
    OPEN = "open", _("答题中")
    FINISHED = "finished", _("已交卷")


class Attempt(models.Model):
    """One member's go at a quiz, issued and timed by the server."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=AttemptKind.choices)
    paper = models.ForeignKey(
        Paper, on_delete=models.PROTECT, null=True, blank=True, related_name="attempts"
    )
    state = models.CharField(max_length=10, choices=AttemptState.choices, default="open")
    started_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True)  # the whole attempt's limit
    finished_at = models.DateTimeField(null=True, blank=True)
    correct_count = models.PositiveSmallIntegerField(default=0)
    question_count = models.PositiveSmallIntegerField(default=0)
    score = models.PositiveSmallIntegerField(default=0)
    points_awarded = models.PositiveIntegerField(default=0)
    scoring = models.BooleanField(default=True)  # False: a practice go (the paper already scored)
    revive_used = models.BooleanField(default=False)  # challenge: one revive a round
    ended_by_wrong = models.BooleanField(default=False)  # challenge: the round is over

    class Meta:
        verbose_name = pgettext_lazy("model", "答题记录")
        verbose_name_plural = pgettext_lazy("model plural", "答题记录")
        indexes: ClassVar = [
            models.Index(fields=["member", "kind", "-started_at"], name="attempt_member_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.pk}"


class AttemptQuestion(models.Model):
    """A question as issued in an attempt: the version asked, when, and the answer given."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="questions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)  # challenge: when its timer began
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True)
    correct = models.BooleanField(null=True)
    late = models.BooleanField(default=False)  # answered after its timer or the deadline
    too_fast = models.BooleanField(default=False)  # faster than a person can read it

    class Meta:
        verbose_name = pgettext_lazy("model", "答题明细")
        verbose_name_plural = pgettext_lazy("model plural", "答题明细")
        ordering = ("position",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["attempt", "position"], name="one_question_a_position")
        ]
        indexes: ClassVar = [
            models.Index(fields=["member", "question"], name="asked_member_question"),
            models.Index(
                fields=["member", "-answered_at"], condition=Q(correct=False), name="asked_wrong"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"


class WrongAnswer(models.Model):
    """The wrong-answer book (错题本): one row per member and question answered wrong."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wrong_answers"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    times_wrong = models.PositiveIntegerField(default=1)
    last_wrong_at = models.DateTimeField(default=timezone.now)
    mastered_at = models.DateTimeField(null=True, blank=True)  # answered right in review

    class Meta:
        verbose_name = pgettext_lazy("model", "错题")
        verbose_name_plural = pgettext_lazy("model plural", "错题")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["member", "question"], name="one_wrong_row")
        ]
        indexes: ClassVar = [
            models.Index(fields=["member", "-last_wrong_at"], name="wrong_member_recent")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} ✗ {self.question_id}"
