"""Forms of the content console (内容管理 · 栏目管理 · 强国号管理).

They only shape and check what a person typed; the services judge it again and write it
(``xuexi/content/services.py``). Column and account choices come from the caller, already
limited to the editor's scope (``xuexi/content/access.py``), so a form never offers what the
editor may not use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xuexi.accounts.forms import ServiceForm
from xuexi.content.media import MB, limit_of
from xuexi.content.models import Account, AccountKind, Channel, Column, ItemKind

IMAGE_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
MEDIA_ACCEPT = "video/mp4,audio/mpeg,audio/mp4,.mp4,.mp3,.m4a"
INDENT = "\u3000"  # an ideographic space: option labels keep it (HTML strips ASCII spaces)


def size_text(kind: str) -> str:
    return f"{limit_of(kind) // MB} MB" if limit_of(kind) >= MB else f"{limit_of(kind)} B"


# --- the column tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnNode:
    column: Column
    depth: int
    first: bool  # first among its siblings (no "move up")
    last: bool  # last among its siblings (no "move down")

    @property
    def label(self) -> str:
        prefix = INDENT * self.depth + ("└ " if self.depth else "")
        suffix = _("（已停用）") if not self.column.is_active else ""
        return f"{prefix}{self.column.name}{suffix}"


def column_tree(columns: Iterable[Column]) -> list[ColumnNode]:
    """Columns in tree order (each parent followed by its children, siblings by position),
    with their depth. A column whose parent is not in ``columns`` counts as a top column."""
    columns = list(columns)
    known = {column.pk for column in columns}
    children: dict[int | None, list[Column]] = defaultdict(list)
    for column in sorted(columns, key=lambda c: (c.position, c.pk)):
        parent = column.parent_id if column.parent_id in known else None
        children[parent].append(column)
    nodes: list[ColumnNode] = []

    def walk(parent: int | None, depth: int) -> None:
        siblings = children.get(parent, [])
        for index, column in enumerate(siblings):
            nodes.append(ColumnNode(column, depth, index == 0, index == len(siblings) - 1))
            if depth < 20:  # a guard against a cycle in bad data
                walk(column.pk, depth + 1)

    walk(None, 0)
    return nodes


def column_choices(columns: Iterable[Column]) -> list[tuple[str, list[tuple[int, str]]]]:
    """``<optgroup>`` per channel, the channel's columns indented under their parents."""
    by_channel: dict[int, list[Column]] = defaultdict(list)
    channels: dict[int, Channel] = {}
    for column in columns:
        by_channel[column.channel_id].append(column)
        channels[column.channel_id] = column.channel
    ordered = sorted(channels.values(), key=lambda c: (c.position, c.pk))
    return [
        (
            channel.name,
            [(node.column.pk, node.label) for node in column_tree(by_channel[channel.pk])],
        )
        for channel in ordered
    ]


# --- 内容：新建与编辑 ----------------------------------------------------------------------------


class ItemForm(ServiceForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=ItemKind.choices,
        initial=ItemKind.ARTICLE,
        widget=forms.RadioSelect,
    )
    column = forms.TypedChoiceField(
        label=gettext_lazy("栏目"),
        coerce=int,
        error_messages={"required": gettext_lazy("请选择栏目。")},
    )
    account = forms.TypedChoiceField(
        label=gettext_lazy("发布号（强国号）"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    title = forms.CharField(
        label=gettext_lazy("标题"),
        max_length=120,
        error_messages={"required": gettext_lazy("请填写标题。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    summary = forms.CharField(
        label=gettext_lazy("摘要"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("最多 300 字；文章留空时取正文开头。"),
    )
    source = forms.CharField(
        label=gettext_lazy("来源"),
        max_length=60,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：新华社")}
        ),
    )
    author = forms.CharField(
        label=gettext_lazy("作者"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    tags = forms.CharField(
        label=gettext_lazy("标签"),
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：乡村振兴，三农")}
        ),
        help_text=gettext_lazy("多个标签用逗号分隔。"),
    )
    cover = forms.FileField(
        label=gettext_lazy("封面图片"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    body = forms.CharField(
        label=gettext_lazy("正文（HTML）"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code-input"}),
    )
    body_image = forms.FileField(
        label=gettext_lazy("正文图片"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    # A form field may be called media: the form class keeps its Media property apart.
    media = forms.FileField(  # type: ignore[assignment]
        label=gettext_lazy("音视频文件"),
        required=False,
        widget=forms.FileInput(attrs={"accept": MEDIA_ACCEPT}),
    )
    poster = forms.FileField(
        label=gettext_lazy("海报图片"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    publish_at = forms.DateTimeField(
        label=gettext_lazy("定时发布"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy(
            "留空则点“发布”后立即发布；填写将来的时间，到时自动发布（定时发布）。"
        ),
        error_messages={"invalid": gettext_lazy("请填写正确的日期和时间。")},
    )

    def __init__(
        self,
        *args: Any,
        columns: Iterable[Column],
        accounts: Iterable[Account],
        kind: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        column_field = cast(forms.TypedChoiceField, self.fields["column"])
        column_field.choices = [("", _("请选择栏目")), *column_choices(columns)]
        account_field = cast(forms.TypedChoiceField, self.fields["account"])
        account_field.choices = [
            ("", _("不使用强国号")),
            *((account.pk, account.name) for account in accounts),
        ]
        self.fields["cover"].help_text = _(
            "JPG、PNG、WebP 或 GIF，最大 %(size)s；显示在列表和分享卡片上。"
        ) % {"size": size_text("image")}
        self.fields["poster"].help_text = _(
            "播放前显示的画面：JPG、PNG、WebP 或 GIF，最大 %(size)s。"
        ) % {"size": size_text("image")}
        self.fields["media"].help_text = _(
            "视频：MP4，最大 %(video)s；音频：MP3 或 M4A，最大 %(audio)s。时长从文件读取。"
        ) % {"video": size_text("video"), "audio": size_text("audio")}
        self.fields["body_image"].help_text = _(
            "JPG、PNG、WebP 或 GIF，最大 %(size)s。上传后插入正文末尾，可再剪切到合适的位置。"
        ) % {"size": size_text("image")}
        if kind is not None:  # an existing item keeps its kind
            del self.fields["kind"]
            unused = ("media", "poster") if kind == ItemKind.ARTICLE else ("body", "body_image")
            for name in unused:
                del self.fields[name]


# --- 栏目 ------------------------------------------------------------------------------------


class ColumnCreateForm(ServiceForm):
    name = forms.CharField(
        label=gettext_lazy("栏目名称"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写栏目名称。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：党史故事")}
        ),
    )
    slug = forms.CharField(
        label=gettext_lazy("标识"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写标识。")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "placeholder": gettext_lazy("如：party-history"),
                "spellcheck": "false",
            }
        ),
        help_text=gettext_lazy(
            "用于网址，只能使用英文字母、数字、“-”和“_”，同一频道内不能重复，创建后不能修改。"
        ),
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_-]+$", gettext_lazy("标识只能使用英文字母、数字、“-”和“_”。")
            )
        ],
    )
    parent = forms.TypedChoiceField(
        label=gettext_lazy("上级栏目"),
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args: Any, columns: Iterable[Column], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = cast(forms.TypedChoiceField, self.fields["parent"])
        parent.choices = [
            ("", _("无（作为一级栏目）")),
            *((node.column.pk, node.label) for node in column_tree(columns)),
        ]


class ColumnUpdateForm(ServiceForm):
    name = forms.CharField(
        label=gettext_lazy("栏目名称"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写栏目名称。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("启用（停用后栏目不再向学员展示，已有内容保留）"), required=False
    )


# --- 强国号 ----------------------------------------------------------------------------------


class AccountForm(ServiceForm):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=50,
        error_messages={"required": gettext_lazy("请填写强国号名称。")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：示范省委宣传部")}
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=AccountKind.choices)
    organization_code = forms.CharField(
        label=gettext_lazy("主办组织编码"),
        max_length=40,
        error_messages={"required": gettext_lazy("请填写主办组织的编码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("填写组织编码（在“组织与成员”中可查），须在您的管理范围内。"),
    )
    intro = forms.CharField(
        label=gettext_lazy("简介"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("最多 200 字，显示在强国号主页和订阅列表。"),
    )
    avatar = forms.FileField(
        label=gettext_lazy("头像"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_ACCEPT}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("启用（停用后学员不能再订阅，已发布的内容保留）"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["avatar"].help_text = _(
            "方形图片效果最好：JPG、PNG、WebP 或 GIF，最大 %(size)s。"
        ) % {"size": size_text("image")}


# --- 正文图片 --------------------------------------------------------------------------------


class BodyImageForm(forms.Form):
    image = forms.FileField(
        label=gettext_lazy("图片"), error_messages={"required": gettext_lazy("请选择图片。")}
    )
