"""Signals of the organisation tree, for the apps above it (which organisations never import).

``organization_moved`` is sent after the commit of ``organization_move`` (never for a move
that rolled back), with ``sender=Organization`` and these keyword arguments:

- ``organization``: the moved node, as it is now;
- ``old_path`` / ``new_path``: its materialised path before and after the move (every node of
  its subtree changed path the same way: ``new_path + rest`` was ``old_path + rest``);
- ``old_parent`` / ``new_parent``: the parents before and after (``old_parent`` ``None`` for a
  root);
- ``subtree_size``: how many nodes moved, the node included.

It is sent with ``send_robust``: a failing receiver is logged and does not stop the others,
nor the response of a move that has already committed.
"""

from __future__ import annotations

from django.dispatch import Signal

organization_moved = Signal()
