"""The HorizontalPodAutoscaler's arithmetic (controllers/autoscaling.py), case by case, as Kubernetes'
replica calculator and behavior tests state them."""
import pytest

from controlplane.api.kinds import KINDS
from controlplane.controllers import autoscaling
from controlplane.controllers.autoscaling import DOWN, UP, MetricError, PodSample, Rules


def pods(*usages, request=100, ready=True):
    return [PodSample(usage=u, request=request, ready=ready) for u in usages]


def test_utilization_proposes_ceil_of_ratio_times_pods():
    # 2 pods at 150m of 100m requested, target 50%: ratio 3 -> 6 pods.
    proposal = autoscaling.propose(2, pods(150, 150), resource="cpu", utilization=50)
    assert proposal == autoscaling.Proposal(6, utilization=150, average=150)


def test_within_tolerance_nothing_changes():
    assert autoscaling.propose(4, pods(54, 54, 54, 54), resource="cpu", utilization=50).replicas == 4


def test_average_value_targets_the_mean_per_pod():
    assert autoscaling.propose(2, pods(300, 100), resource="memory", average=100).replicas == 4


def test_missing_metrics_are_counted_against_the_change():
    # Scaling down: the unmeasured pod is assumed at the target, which softens the drop.
    down = autoscaling.propose(3, pods(10, 10) + pods(None), resource="cpu", utilization=50)
    assert down.replicas == 2   # ceil((10+10+50)/300/0.5 * 3) = 2
    # Scaling up: the unmeasured and unready pods are assumed idle.
    up = autoscaling.propose(3, pods(200) + pods(None) + pods(200, ready=False), resource="cpu", utilization=50)
    assert up.replicas == 4     # ceil(200/300/0.5 * 3) = 4


def test_an_assumption_that_reverses_the_direction_keeps_the_count():
    assert autoscaling.propose(3, pods(60) + pods(None, None), resource="cpu", utilization=50).replicas == 3


def test_no_measurement_or_no_request_is_an_error():
    with pytest.raises(MetricError, match="no cpu usage"):
        autoscaling.propose(1, pods(None), resource="cpu", utilization=50)
    with pytest.raises(MetricError, match="missing request for cpu"):
        autoscaling.propose(1, pods(100, request=0), resource="cpu", utilization=50)


def test_stabilization_holds_the_highest_recent_recommendation_for_scale_down():
    history = [(100.0, 5), (200.0, 3)]
    assert autoscaling.stabilize(5, 1, history, now=250.0, up_window=0, down_window=300) == 5
    assert autoscaling.stabilize(5, 1, history, now=450.0, up_window=0, down_window=300) == 3
    assert autoscaling.stabilize(5, 1, history, now=600.0, up_window=0, down_window=300) == 1
    # Up is not held by default (window 0), but is with a window.
    assert autoscaling.stabilize(1, 4, [(90.0, 2)], now=100.0, up_window=0, down_window=300) == 4
    assert autoscaling.stabilize(1, 4, [(90.0, 2)], now=100.0, up_window=60, down_window=300) == 2


def test_default_scale_up_policies_allow_the_larger_of_4_pods_and_100_percent():
    rules = autoscaling.DEFAULT_RULES
    assert autoscaling.limit(1, rules[UP], [], now=100.0, direction=UP) == 5        # +4 pods beats +100%
    assert autoscaling.limit(10, rules[UP], [], now=100.0, direction=UP) == 20      # +100% beats +4
    # Pods added within the period count against it: started the period at 6, so at most 12.
    assert autoscaling.limit(10, rules[UP], [(95.0, 4)], now=100.0, direction=UP) == 12


def test_scale_down_policies_and_select_policy():
    rules = Rules(window=0, select="Max", policies=(("Pods", 1, 60), ("Percent", 50, 60)))
    assert autoscaling.limit(10, rules, [], now=0.0, direction=DOWN) == 5            # the larger change
    least = Rules(window=0, select="Min", policies=rules.policies)
    assert autoscaling.limit(10, least, [], now=0.0, direction=DOWN) == 9
    disabled = Rules(window=0, select="Disabled", policies=rules.policies)
    assert autoscaling.limit(10, disabled, [], now=0.0, direction=DOWN) == 10


def test_decide_clamps_to_min_and_max_and_says_why():
    rules = autoscaling.DEFAULT_RULES
    args = dict(rules=rules, recommendations=[], events=[], now=1000.0)
    assert autoscaling.decide(2, 50, min_replicas=1, max_replicas=5, **args) == autoscaling.Decision(5, "TooManyReplicas")
    assert autoscaling.decide(1, 50, min_replicas=1, max_replicas=100, **args) == autoscaling.Decision(5, "ScaleUpLimit")
    quick = {UP: rules[UP], DOWN: Rules(window=0, select="Max", policies=(("Percent", 100, 15),))}
    assert autoscaling.decide(4, 0, min_replicas=2, max_replicas=5, rules=quick, recommendations=[], events=[],
                              now=1000.0) == autoscaling.Decision(2, "TooFewReplicas")


def test_behavior_given_in_part_keeps_the_defaults_for_the_rest():
    hpa = KINDS["HorizontalPodAutoscaler"].new(spec={"behavior": {"scale_down": {"stabilization_window_seconds": 0}}})
    rules = autoscaling.rules_of(hpa.spec.behavior)
    assert rules[UP] == autoscaling.DEFAULT_RULES[UP]
    assert rules[DOWN] == Rules(window=0, select="Max", policies=(("Percent", 100, 15),))
