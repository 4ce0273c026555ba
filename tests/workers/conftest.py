"""A moto of a module's own, in its own process: tests that write to AWS don't touch the shared estate."""

from collections.abc import Iterator

import pytest

from workers.simulated_aws import SimulatedAWSProcess


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with SimulatedAWSProcess() as simulated:
        yield simulated.endpoint_url
