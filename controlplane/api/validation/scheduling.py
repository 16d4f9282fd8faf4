"""What the scheduler reads: tolerations, taints, affinity, topology spread.

The scheduler and the node lifecycle controller trust these, so operators,
effects and values are checked here once, with Kubernetes' rules (an Exists
toleration has no value, Gt/Lt take one integer, weights are 1-100).
"""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation.common import (Errors, at_least, between, label_selector, one_of,
                                                required_syntax, syntax)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Exists", "Equal")
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")


def tolerations(path: str, items) -> Errors:
    for index, toleration in enumerate(items):
        here = f"{path}[{index}]"
        if toleration.key:
            yield from syntax(f"{here}.key", toleration.key, names.qualified_name)
        elif toleration.operator != "Exists":
            yield FieldError(f"{here}.operator", "must be Exists when `key` is empty, "
                             "which means \"match all values and all keys\"")
        yield from one_of(f"{here}.operator", toleration.operator, TOLERATION_OPERATORS)
        if toleration.operator == "Exists" and toleration.value:
            yield FieldError(f"{here}.value", "must be empty when `operator` is 'Exists'")
        elif toleration.value:
            yield from syntax(f"{here}.value", toleration.value, names.label_value)
        yield from one_of(f"{here}.effect", toleration.effect, TAINT_EFFECTS)
        if toleration.HasField("toleration_seconds") and toleration.effect != "NoExecute":
            yield FieldError(f"{here}.tolerationSeconds", "may only be set when `effect` is 'NoExecute'")


def taints(path: str, items) -> Errors:
    seen = set()
    for index, taint in enumerate(items):
        here = f"{path}[{index}]"
        yield from required_syntax(f"{here}.key", taint.key, names.qualified_name)
        if taint.value:
            yield from syntax(f"{here}.value", taint.value, names.label_value)
        yield from one_of(f"{here}.effect", taint.effect, TAINT_EFFECTS, required=True)
        if (taint.key, taint.effect) in seen:
            yield FieldError(here, f'taints must be unique by key and effect: "{taint.key}:{taint.effect}"')
        seen.add((taint.key, taint.effect))


def affinity(path: str, a) -> Errors:
    if a.HasField("node_affinity"):
        yield from _node_affinity(f"{path}.nodeAffinity", a.node_affinity)
    for field, json_name in (("pod_affinity", "podAffinity"), ("pod_anti_affinity", "podAntiAffinity")):
        if a.HasField(field):
            yield from _pod_affinity(f"{path}.{json_name}", getattr(a, field))


def _node_affinity(path: str, node_affinity) -> Errors:
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    if node_affinity.HasField("required_during_scheduling_ignored_during_execution"):
        terms = node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
        if not terms:
            yield FieldError(f"{path}.{required}.nodeSelectorTerms", "must have at least one term")
        for index, term in enumerate(terms):
            yield from node_selector_term(f"{path}.{required}.nodeSelectorTerms[{index}]", term)
    preferred = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    for index, item in enumerate(node_affinity.preferred_during_scheduling_ignored_during_execution):
        yield from between(f"{preferred}[{index}].weight", item.weight, 1, 100)
        yield from node_selector_term(f"{preferred}[{index}].preference", item.preference)


def node_selector_term(path: str, term) -> Errors:
    for index, requirement in enumerate(term.match_expressions):
        here = f"{path}.matchExpressions[{index}]"
        yield from required_syntax(f"{here}.key", requirement.key, names.qualified_name)
        yield from _requirement_values(here, requirement.operator, requirement.values)
    for index, requirement in enumerate(term.match_fields):
        here = f"{path}.matchFields[{index}]"
        if requirement.key != "metadata.name":
            yield FieldError(f"{here}.key", f'unsupported value "{requirement.key}": supported values: '
                             '"metadata.name"')
        yield from one_of(f"{here}.operator", requirement.operator, ("In", "NotIn"), required=True)
        if len(requirement.values) != 1:
            yield FieldError(f"{here}.values", "must have exactly one value")


def _requirement_values(path: str, operator: str, values) -> Errors:
    yield from one_of(f"{path}.operator", operator, NODE_SELECTOR_OPERATORS, required=True)
    if operator in ("In", "NotIn") and not values:
        yield FieldError(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in ("Exists", "DoesNotExist") and values:
        yield FieldError(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    elif operator in ("Gt", "Lt"):
        if len(values) != 1 or not _is_integer(values[0]):
            yield FieldError(f"{path}.values", "must be a single integer when `operator` is 'Gt' or 'Lt'")


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _pod_affinity(path: str, pod_affinity) -> Errors:
    required = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
    for index, term in enumerate(pod_affinity.required_during_scheduling_ignored_during_execution):
        yield from _pod_affinity_term(f"{required}[{index}]", term)
    preferred = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    for index, item in enumerate(pod_affinity.preferred_during_scheduling_ignored_during_execution):
        yield from between(f"{preferred}[{index}].weight", item.weight, 1, 100)
        yield from _pod_affinity_term(f"{preferred}[{index}].podAffinityTerm", item.pod_affinity_term)


def _pod_affinity_term(path: str, term) -> Errors:
    yield from required_syntax(f"{path}.topologyKey", term.topology_key, names.qualified_name)
    yield from label_selector(f"{path}.labelSelector", term.label_selector)
    yield from label_selector(f"{path}.namespaceSelector", term.namespace_selector)
    for index, namespace in enumerate(term.namespaces):
        yield from syntax(f"{path}.namespaces[{index}]", namespace, names.dns_label)


def topology_spread(path: str, constraints) -> Errors:
    seen = set()
    for index, constraint in enumerate(constraints):
        here = f"{path}[{index}]"
        yield from at_least(f"{here}.maxSkew", constraint.max_skew, 1)
        yield from required_syntax(f"{here}.topologyKey", constraint.topology_key, names.qualified_name)
        yield from one_of(f"{here}.whenUnsatisfiable", constraint.when_unsatisfiable, WHEN_UNSATISFIABLE,
                          required=True)
        if constraint.HasField("min_domains"):
            yield from at_least(f"{here}.minDomains", constraint.min_domains, 1)
            if constraint.when_unsatisfiable != "DoNotSchedule":
                yield FieldError(f"{here}.minDomains", "may only be set when `whenUnsatisfiable` is "
                                 "'DoNotSchedule'")
        yield from label_selector(f"{here}.labelSelector", constraint.label_selector)
        for position, key in enumerate(constraint.match_label_keys):
            yield from syntax(f"{here}.matchLabelKeys[{position}]", key, names.qualified_name)
        pair = (constraint.topology_key, constraint.when_unsatisfiable)
        if pair in seen:
            yield FieldError(here, f'duplicate constraint for topologyKey "{pair[0]}" and '
                             f'whenUnsatisfiable "{pair[1]}"')
        seen.add(pair)
