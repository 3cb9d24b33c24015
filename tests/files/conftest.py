import pytest

from marketplace.messaging import services
from tests import factories


@pytest.fixture()
def thread(business, freelancer):
    return services.get_or_create_thread(factories.create_task(business, title="Weekend chat cover"), freelancer.id)
