"""File storage for files that must never be served (uploads holding personal data)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateFileStorage(FileSystemStorage):
    """Files under ``PRIVATE_FILES_ROOT``, outside MEDIA_ROOT and without any URL.

    The root is read on every use (not cached like MEDIA_ROOT's), so tests and deployments
    can move it through the setting alone.
    """

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_FILES_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL.")
