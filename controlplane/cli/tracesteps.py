"""A trace's steps, shared by `cox trace pod/NAME` (trace_cmd.py) and `deployment/NAME` (rollout_trace.py):
a Step from what a component recorded, their order, and the rows printed (TIME, SINCE, COMPONENT, WHAT)."""
import dataclasses
import datetime

from google.protobuf.message import Message


@dataclasses.dataclass(frozen=True)
class Step:
    at: float | None       # seconds since the epoch; None: no time recorded
    precise: bool          # to the microsecond (an Event's eventTime), else whole seconds
    component: str
    what: str
    late: bool = False     # a whole-second time of something that ends a step (a condition, a start):
                           # placed at the end of its second, after that second's precise events
    by: float | None = None  # a whole-second time of a step known to come before a precise one in its
                             # second (an object stored, then the Event of its making): placed just before it


def seconds(stamp) -> float | None:
    return stamp.seconds + stamp.nanos / 1e9 if stamp.seconds else None


def event_step(event: Message) -> Step:
    precise = bool(event.event_time.seconds)
    at = seconds(event.event_time) if precise else seconds(event.first_timestamp)
    source = event.source.component or event.reporting_component or "?"
    where = f" ({event.source.host})" if event.source.host and source == "kubelet" else ""
    count = f" (x{event.count})" if event.count > 1 else ""
    return Step(at, precise, source + where, f"{event.reason}: {event.message}{count}")


def ordered(steps: list[Step]) -> list[Step]:
    """Time order, a late whole-second step at the end of its second, one known to come before a precise
    step just before it, those without a time last."""
    def key(s: Step) -> tuple:
        if s.by is not None and 0 <= s.by - (s.at or 0.0) < 1:
            return False, s.by, 0
        return s.at is None, (s.at or 0.0) + (0.999 if s.late else 0.0), 1
    return sorted(steps, key=key)


def rows(steps: list[Step]) -> list[list[str]]:
    start = next((s.at for s in steps if s.at is not None), 0.0)
    out = []
    for step in steps:
        if step.at is None:
            out.append(["-", "-", step.component, step.what])
            continue
        moment = datetime.datetime.fromtimestamp(step.at, datetime.timezone.utc)
        clock = moment.strftime("%H:%M:%S.%f")[:-3] if step.precise else moment.strftime("%H:%M:%S")
        since = f"+{step.at - start:.3f}s" if step.precise else f"+{step.at - start:.0f}s"
        out.append([clock, since, step.component, step.what])
    return out
