"""One 3-node local cluster (`cox local up`) for all end-to-end tests, torn down at the end whatever happens."""
import pytest

from tests.support.cluster import local_cluster


@pytest.fixture(scope="session")
def cluster():
    with local_cluster(nodes=3) as running:
        yield running
