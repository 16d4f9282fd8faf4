"""`cox describe` pages of a namespace's bounds, as kubectl shows them: a ResourceQuota's Used/Hard table and
a LimitRange's table of bounds and defaults per type and resource."""
from controlplane.cli.printing.page import Page

_UNSET = "-"


def resource_quota(page: Page, quota, related: dict, now: float) -> None:
    page.metadata(quota, namespaced=True)
    if quota.spec.scopes:
        page.values("Scopes", quota.spec.scopes)
    page.table(["Resource", "Used", "Hard"],
               [[name, quota.status.used.get(name, "0"), quota.spec.hard[name]] for name in sorted(quota.spec.hard)],
               level=0)


def limit_range(page: Page, limits, related: dict, now: float) -> None:
    page.metadata(limits, namespaced=True)
    rows = []
    for item in limits.spec.limits:
        fields = (item.min, item.max, item.default_request, item.default, item.max_limit_request_ratio)
        for name in sorted({n for field in fields for n in field}):
            rows.append([item.type, name, *(field.get(name, _UNSET) for field in fields)])
    page.table(["Type", "Resource", "Min", "Max", "Default Request", "Default Limit", "Max Limit/Request Ratio"],
               rows, level=0)
