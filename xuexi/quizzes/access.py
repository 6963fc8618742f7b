"""Who manages the question bank, the special papers and the weekly sets: platform operators
(运营人员) — the operator role held on a root of the organisation tree. The bank and the
papers serve every member of the deployment, so nothing narrower than the whole platform may
change them: an operator of a provincial sub-platform node, an administrator, an editor or a
member is refused, as are the rule sets (``xuexi.points.services.ruleset_editor_root_id``).

``require_bank_operator`` raises ``Forbidden`` for anyone else; ``access_<thing>_as_operator``
fetches one object for an operator and raises ``NotFound`` when it does not exist. The bank's
writes (``xuexi.quizzes.bank``, ``xuexi.quizzes.papers``) ask the same question again, so a
view that forgot to ask still cannot write.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core.errors import Forbidden, NotFound
from xuexi.organizations.models import Organization, Role, RoleGrant
from xuexi.quizzes.models import Category, Paper, Question

# The answer is kept on the user object for the rest of the request: an import checks the
# same actor once per row, and a role change takes effect from the next request.
_MEMO = "_quiz_bank_root"


def bank_operator_root(user: User | Any) -> Organization | None:
    """The root node on which ``user`` is an operator, or None (one query, then remembered
    on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, _MEMO):
        return getattr(user, _MEMO)
    grants = RoleGrant.objects.filter(user=user, role=Role.OPERATOR).select_related("organization")
    root = next(
        (
            grant.organization
            for grant in grants
            if len(grant.organization.path) == Organization.steplen
        ),
        None,
    )
    setattr(user, _MEMO, root)
    return root


def user_can_manage_bank(user: User | Any) -> bool:
    return bank_operator_root(user) is not None


def require_bank_operator(user: User | Any) -> Organization:
    """The root node the operator works from (audit entries are filed under it), or
    ``Forbidden``."""
    root = bank_operator_root(user)
    if root is None:
        raise Forbidden(_("只有平台运营人员可以管理题库和答题。"))
    return root


def access_question_as_operator(user: User, question_id: int) -> Question:
    require_bank_operator(user)
    question = (
        Question.objects.select_related("category", "current", "current__hint_item")
        .filter(pk=question_id)
        .first()
    )
    if question is None:
        raise NotFound(_("找不到该题目。"))
    return question


def access_category_as_operator(user: User, category_id: int) -> Category:
    require_bank_operator(user)
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(_("找不到该分类。"))
    return category


def access_paper_as_operator(user: User, paper_id: int) -> Paper:
    require_bank_operator(user)
    paper = Paper.objects.filter(pk=paper_id).first()
    if paper is None:
        raise NotFound(_("找不到该套题。"))
    return paper
