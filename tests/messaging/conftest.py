import pytest

from marketplace.messaging import services
from tests import factories


@pytest.fixture()
def thread(business, freelancer):
    """A conversation between `business` and `freelancer` about a fresh task of the business."""
    return services.get_or_create_thread(factories.create_task(business, title="Weekend chat cover for Brightline"),
                                         freelancer.id)
