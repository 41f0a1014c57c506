import pytest

import app as frontend


@pytest.fixture
def client():
    frontend.app.config.update(TESTING=True)
    return frontend.app.test_client()
