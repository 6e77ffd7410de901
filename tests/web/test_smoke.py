from fastapi.testclient import TestClient

from socialdesk.people.models import User
from tests.web.conftest import sign_in


def test_an_agent_signs_in_and_sees_the_inbox(client: TestClient, agent: User) -> None:
    sign_in(client, agent.email)
    page = client.get("/console")
    assert page.status_code == 200
    assert "Inbox" in page.text
