"""Checks on uploaded covers, posters, videos and audio: the type is read from the file's own
bytes (puremagic), never from its name or the browser's word; images must open (Pillow), media
must have a readable duration (mutagen). Transcoding is out of scope: we accept what phones
play natively — MP4 video, MP3 and M4A audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import mutagen
import puremagic
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from xuexi.core.errors import ValidationFailed

MB = 1024 * 1024
IMAGE_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
MEDIA_TYPES = {
    "video": {"video/mp4": ".mp4"},
    "audio": {"audio/mpeg": ".mp3", "audio/mp4": ".m4a"},
}
DEFAULT_LIMITS = {"image": 5 * MB, "video": 200 * MB, "audio": 50 * MB}


def limit_of(kind: str) -> int:
    return int(getattr(settings, "CONTENT_UPLOAD_LIMITS", {}).get(kind, DEFAULT_LIMITS[kind]))


@dataclass(frozen=True)
class CheckedMedia:
    content_type: str
    duration: int  # whole seconds, at least 1


def _sniff(upload: IO[bytes]) -> set[str]:
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    try:
        found = puremagic.magic_string(head)
    except puremagic.PureError:
        return set()
    return {match.mime_type for match in found if match.mime_type}


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{max(1, limit // 1024)} KB"


def _too_big(field: str, size: int, kind: str) -> None:
    if size > limit_of(kind):
        raise ValidationFailed(
            {field: _("文件过大：最大 %(size)s。") % {"size": _size(limit_of(kind))}}
        )


def check_image(upload: UploadedFile, field: str = "cover") -> str:
    """The image's content type, or ``ValidationFailed`` with a Chinese reason."""
    _too_big(field, upload.size or 0, "image")
    kinds = _sniff(upload) & set(IMAGE_TYPES)
    if not kinds:
        raise ValidationFailed({field: _("图片格式不支持：请上传 JPG、PNG、WebP 或 GIF 图片。")})
    try:
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed({field: _("图片已损坏，无法打开。")}) from exc
    finally:
        upload.seek(0)
    return sorted(kinds)[0]


def check_media(upload: UploadedFile, kind: str, field: str = "media") -> CheckedMedia:
    """A video (``kind="video"``) or audio file's type and duration, or ``ValidationFailed``."""
    _too_big(field, upload.size or 0, kind)
    allowed = MEDIA_TYPES[kind]
    kinds = _sniff(upload) & set(allowed)
    if not kinds:
        message = (
            _("视频格式不支持：请上传 MP4 视频。")
            if kind == "video"
            else _("音频格式不支持：请上传 MP3 或 M4A 音频。")
        )
        raise ValidationFailed({field: message})
    try:
        parsed = mutagen.File(upload)
        length = float(parsed.info.length) if parsed is not None else 0.0
    except (mutagen.MutagenError, AttributeError, ValueError, OSError) as exc:
        raise ValidationFailed({field: _("文件已损坏或无法读取时长。")}) from exc
    finally:
        upload.seek(0)
    if length < 1:
        raise ValidationFailed({field: _("文件已损坏或无法读取时长。")})
    return CheckedMedia(sorted(kinds)[0], round(length))
