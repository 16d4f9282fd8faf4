"""Expectations: act again only once earlier creations and deletions have been seen."""
import time

from controlplane.controllers.expectations import Expectations


def test_satisfied_once_every_expected_change_is_observed():
    e = Expectations()
    assert e.satisfied("rs")
    e.expect("rs", creations=2, deletions=["u1"])
    e.creation_observed("rs")
    assert not e.satisfied("rs")
    e.creation_observed("rs")
    e.deletion_observed("rs", "u1")
    e.deletion_observed("rs", "u1")          # seen twice (deleting, then gone): counted once
    assert e.satisfied("rs")


def test_old_expectations_expire():
    e = Expectations(expiry_seconds=0.01)
    e.expect("rs", creations=1)
    time.sleep(0.02)
    assert e.satisfied("rs")
