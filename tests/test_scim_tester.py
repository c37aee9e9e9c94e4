"""scim2-tester's checks against the scim2-server the SCIM tests use: the reference
provider is sound, so what fails in the target's tests is the target's."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from syncd.testing.scim import ScimServer


@pytest.fixture
def client(scim_server: ScimServer) -> Iterator[SyncSCIMClient]:
    http = httpx2.Client(base_url=scim_server.url,
                         headers={"Authorization": f"Bearer {scim_server.token}"})
    try:
        yield SyncSCIMClient(http)
    finally:
        http.close()


def test_scim2_server_passes_every_check_of_scim2_tester(client):
    results = check_server(client)
    failed = [f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}"
              for r in results if r.status is not Status.SUCCESS]
    assert not failed, "\n".join(failed)
    checked = {tag for r in results for tag in r.tags}
    assert {"discovery", "crud:create", "crud:read", "crud:update", "crud:delete"} <= checked
    assert {r.resource_type for r in results} >= {"User", "Group"}
