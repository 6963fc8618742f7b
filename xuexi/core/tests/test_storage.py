from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from xuexi.core.storage import PrivateFileStorage


def test_private_files_live_under_their_own_root_and_have_no_url(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    storage = PrivateFileStorage()
    name = storage.save("rosters/a.xlsx", ContentFile(b"data"))
    assert (tmp_path / "private" / name).read_bytes() == b"data"
    assert not (tmp_path / "media").exists()
    with pytest.raises(ValueError, match="no URL"):
        storage.url(name)
