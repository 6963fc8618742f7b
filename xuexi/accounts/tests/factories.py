from __future__ import annotations

import factory
from django.utils import timezone

from xuexi.accounts.models import User

DEFAULT_PASSWORD = "Xuexi2026ok"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"137{n:08d}")
    real_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password(DEFAULT_PASSWORD)
    registered_at = factory.LazyFunction(timezone.now)
