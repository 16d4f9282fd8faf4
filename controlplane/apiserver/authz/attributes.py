"""What an authorizer is asked: who wants to do what to which object, and its answers."""
import dataclasses
import enum

from controlplane.apiserver.auth import User

READ_VERBS = frozenset({"get", "list", "watch"})


@dataclasses.dataclass(frozen=True)
class Attributes:
    user: User
    verb: str        # get list watch create update update_status delete bind log exec
    #                  (and from REST: deletecollection attach portforward)
    kind: str        # "Pod"
    namespace: str   # "" for a cluster-scoped kind, or a request across all namespaces
    name: str        # "" when the request names no single object (a list, a generateName create)


class Verdict(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no opinion"


@dataclasses.dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""


ALLOW = Decision(Verdict.ALLOW)
NO_OPINION = Decision(Verdict.NO_OPINION)


def deny(reason: str) -> Decision:
    return Decision(Verdict.DENY, reason)
