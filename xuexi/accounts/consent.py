"""The privacy notice and user agreement members accept at registration (SECURITY S12).

Bump the version whenever the text in ``web/privacy.html`` or ``web/terms.html`` changes: the
version a member accepted is kept on his account.
"""

PRIVACY_NOTICE_VERSION = "2026-11-28"
