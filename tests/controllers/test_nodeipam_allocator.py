"""The pod CIDR allocator."""
import pytest

from controlplane.controllers.nodeipam import CIDRAllocator, CIDRsExhausted


def test_allocates_in_order_skipping_used_and_not_reusing_a_just_freed_one_first():
    allocator = CIDRAllocator("10.244.0.0/16", 24)
    assert allocator.size == 256
    assert allocator.occupy("10.244.1.0/24")
    assert [allocator.allocate() for _ in range(3)] == ["10.244.0.0/24", "10.244.2.0/24", "10.244.3.0/24"]
    allocator.release("10.244.0.0/24")
    assert allocator.allocate() == "10.244.4.0/24"
    assert allocator.used == 4


def test_refuses_foreign_subnets_and_runs_out():
    allocator = CIDRAllocator("10.0.0.0/30", 31)
    assert not allocator.occupy("10.1.0.0/31") and not allocator.occupy("10.0.0.0/24")
    assert not allocator.occupy("not-a-cidr")
    assert {allocator.allocate(), allocator.allocate()} == {"10.0.0.0/31", "10.0.0.2/31"}
    with pytest.raises(CIDRsExhausted):
        allocator.allocate()
    allocator.release("10.0.0.2/31")
    assert allocator.allocate() == "10.0.0.2/31"


def test_a_node_mask_that_does_not_fit_is_an_error():
    with pytest.raises(ValueError):
        CIDRAllocator("10.244.0.0/16", 8)
