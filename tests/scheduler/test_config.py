"""The configuration file: defaults, plugin changes, strict field checking."""
import pytest

from controlplane.scheduler import config

FULL = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: /etc/cox/admin.yaml}
leaderElection: {leaderElect: false, leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 500ms}
percentageOfNodesToScore: 20
podMaxBackoffSeconds: 30
bindConcurrency: 8
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: NodeResourcesBalancedAllocation}]
      enabled: [{name: NodeAffinity, weight: 7}]
    multiPoint:
      disabled: [{name: DefaultPreemption}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 3}]}}
- schedulerName: batch
"""


def test_defaults():
    parsed = config.parse({})
    assert parsed.leader_election.leader_elect and parsed.leader_election.lease_duration == 15
    assert [p.scheduler_name for p in parsed.profiles] == ["default-scheduler"]
    assert dict(parsed.profiles[0].plugins)["TaintToleration"] == 3


def test_a_full_file(tmp_path):
    path = tmp_path / "scheduler.yaml"
    path.write_text(FULL)
    parsed = config.load(path)
    assert parsed.kubeconfig == "/etc/cox/admin.yaml"
    assert parsed.leader_election.retry_period == 0.5 and not parsed.leader_election.leader_elect
    assert parsed.percentage_of_nodes_to_score == 20 and parsed.bind_concurrency == 8
    default, batch = parsed.profiles
    names = dict(default.plugins)
    assert "NodeResourcesBalancedAllocation" not in names and "DefaultPreemption" not in names
    assert names["NodeAffinity"] == 7
    assert default.plugin_args["NodeResourcesFit"] == {"scoring_strategy": "MostAllocated", "cpu_weight": 3}
    assert batch.scheduler_name == "batch" and "DefaultPreemption" in dict(batch.plugins)


@pytest.mark.parametrize("data,message", [
    ({"profiles": [{"plugins": {"score": {"enabled": [{"name": "Nope"}]}}}]},
     "profiles[0].plugins.score.enabled[0].name: unknown plugin 'Nope'"),
    ({"leaderElection": {"leaseDurations": "1s"}}, "leaderElection.leaseDurations: unknown field"),
    ({"leaderElection": {"leaseDuration": "soon"}}, 'leaderElection.leaseDuration: "soon" is not a duration'),
    ({"percentageOfNodesToScore": 101}, "percentageOfNodesToScore: must be between 0 and 100"),
    ({"profiles": [{}, {}]}, "distinct schedulerName"),
    ({"profiles": [{"pluginConfig": [{"name": "NodeResourcesFit", "args": {"scoring": 1}}]}]},
     "profiles[0].pluginConfig[0].args.scoring: unknown field"),
    ({"bindConcurrency": "8"}, "bindConcurrency: expected int"),
])
def test_errors_name_the_field(data, message):
    with pytest.raises(config.ConfigError) as e:
        config.parse(data)
    assert message in str(e.value)
