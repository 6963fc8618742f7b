from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class QuizzesConfig(AppConfig):
    name = "xuexi.quizzes"
    verbose_name = pgettext_lazy("app", "答题")
