"""The /api/v1 application: routers of every domain, one error shape, deny by default."""

from ninja import NinjaAPI

from xuexi.api import accounts, organizations, points, points_admin, rosters
from xuexi.api.auth import DEFAULT_AUTH
from xuexi.api.errors import install_error_handlers

api = NinjaAPI(
    title="xuexi API",
    version="1",
    description="学习平台 REST API v1。错误统一为 {code, message, details}；列表使用游标分页。",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=DEFAULT_AUTH,
)
install_error_handlers(api)
api.add_router("", accounts.router)
api.add_router("", organizations.router)
api.add_router("", rosters.router)
api.add_router("", points.router)
api.add_router("", points_admin.router)
api.add_router("", "xuexi.api.learning.router")
api.add_router("", "xuexi.api.content.router")
api.add_router("", "xuexi.api.quizzes.router")
api.add_router("", "xuexi.api.reports.router")
