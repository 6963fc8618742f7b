"""Signals of the points ledger, for the apps above it (which points never import).

``ledger_written`` is sent **inside** the transaction that appends ledger entries — by
``points_award``, ``points_award_batch`` and ``points_reverse`` — with ``sender=LedgerEntry``
and ``days``: the frozenset of Asia/Shanghai business days the new entries belong to.

Inside, not after the commit: what a receiver writes (the reports mark a closed day for
re-closing when an entry arrives for it late) commits or rolls back with the entries, so no
crash between the two can leave a closed day that silently misses an entry. A receiver must
therefore be cheap and must not fail for ordinary reasons: it runs on every award, and its
error rolls the award back. The usual award is for today; a receiver should return without a
query then.
"""

from __future__ import annotations

from django.dispatch import Signal

ledger_written = Signal()
