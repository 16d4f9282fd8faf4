"""`cox get`'s kubectl output options against a real server: jsonpath, custom-columns, sorting, label columns."""
import subprocess

from tests.cli.test_get import config_map


def _three(cox, namespace):
    cox("apply", "-n", namespace, "-f", "-", stdin="---\n".join(
        [config_map("bravo", app="web", tier="front"), config_map("alpha", app="db"), config_map("charlie")]))


def test_jsonpath_and_custom_columns(cox, namespace):
    _three(cox, namespace)
    names = cox("get", "cm", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert names == "alpha bravo charlie"
    assert cox("get", "cm", "bravo", "-n", namespace, "-o=jsonpath={.metadata.labels.tier}").stdout == "front"
    ranged = cox("get", "cm", "-n", namespace, "-l", "app",
                 "-o", 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.app}{"\\n"}{end}').stdout
    assert ranged == "alpha=db\nbravo=web\n"
    table = cox("get", "cm", "-n", namespace, "-o", "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app",
                "--sort-by=.metadata.name").stdout.splitlines()
    assert [line.split() for line in table] == [["NAME", "APP"], ["alpha", "db"], ["bravo", "web"],
                                                ["charlie", "<none>"]]


def test_sort_headers_and_label_columns(cox, namespace):
    _three(cox, namespace)
    rows = cox("get", "cm", "-n", namespace, "--sort-by={.metadata.labels.app}", "--no-headers",
               "-L", "app,tier").stdout.splitlines()
    assert [row.split()[0] for row in rows] == ["charlie", "alpha", "bravo"]  # no label first
    assert rows[2].split()[-2:] == ["web", "front"]
    shown = cox("get", "cm", "bravo", "charlie", "-n", namespace, "--show-labels").stdout.splitlines()
    assert shown[0].split() == ["NAME", "DATA", "AGE", "LABELS"]
    assert shown[1].split()[-1] == "app=web,tier=front" and shown[2].split()[-1] == "<none>"


def test_bad_output_formats_are_named(cox, namespace):
    bad = cox("get", "cm", "-n", namespace, "-o", "jsonpath={.items[", ok=False)
    assert bad.returncode == 2 and "unclosed" in bad.stderr
    bad = cox("get", "cm", "-n", namespace, "-o", "table", ok=False)
    assert bad.returncode == 2 and 'output format "table"' in bad.stderr and "Traceback" not in bad.stderr


def test_a_reader_that_leaves_early_ends_cox_quietly(cox, namespace):
    """`cox get all -A | head`: the pipe's reader is gone before cox writes (closed at once here, so the
    test does not depend on how much output fills the pipe)."""
    _three(cox, namespace)
    proc = subprocess.Popen(cox.command("get", "cm", "-A"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cox.env())
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == b""
