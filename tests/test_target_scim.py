"""The SCIM target against a real scim2-server, directly or through a proxy that fails
on demand: paging, PUT where PATCH is not offered, 429 and Retry-After, a wrong token, a
refused object, membership deltas, `validate` against the provider's schema, a provider
down mid-cycle. What is checked is what the provider holds and what its log (or the
proxy's record) shows it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncd.objects import USER
from syncd.plan.model import Action, Change
from syncd.store import open_store
from syncd.testing.scim import (
    TOKEN,
    ScimServer,
    default_schemas,
    default_service_provider_config,
)
from tests.fixtures_scim import MAPPING, ScimEnv, before_each_apply

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PAGE = 7


def started(tmp_path: Path, **options: Any) -> Iterator[ScimServer]:
    with ScimServer(tmp_path / "scim", **options) as server:
        yield server


@pytest.fixture
def paged_server(tmp_path: Path) -> Iterator[ScimServer]:
    """A provider that serves at most 7 resources a page."""
    config = default_service_provider_config()
    config["filter"]["maxResults"] = PAGE
    yield from started(tmp_path, service_provider_config=config)


@pytest.fixture
def put_only_server(tmp_path: Path) -> Iterator[ScimServer]:
    """A provider whose ServiceProviderConfig says patch.supported false."""
    config = default_service_provider_config()
    config["patch"]["supported"] = False
    yield from started(tmp_path, service_provider_config=config)


@pytest.fixture
def untitled_server(tmp_path: Path) -> Iterator[ScimServer]:
    """A provider whose User schema has no `title` (RFC 7643's has)."""
    schemas = default_schemas()
    user = next(s for s in schemas if s["id"] == CORE_USER)
    user["attributes"] = [a for a in user["attributes"] if a["name"] != "title"]
    yield from started(tmp_path, schemas=schemas)


def by_hand(server: ScimServer, username: str) -> str:
    user = server.send("POST", "/Users", {"schemas": [CORE_USER], "userName": username})
    return str(user["id"])


def ours(env: ScimEnv) -> dict[str, dict[str, Any]]:
    """The provider's Users that carry a person id, by it."""
    return {u["externalId"]: u for u in env.users().values() if u.get("externalId")}


def test_every_page_is_read_at_the_page_size_the_provider_announces(paged_server, tmp_path):
    env = ScimEnv(tmp_path, paged_server)
    made = {by_hand(paged_server, f"user{n:02}") for n in range(30)}
    with env.target() as target:
        read = {e.locator for e in target.read(["userName"]) if e.kind == USER}
    assert read == made
    pages = [path for method, path, _ in paged_server.requests()
             if method == "GET" and path.startswith("/v2/Users?")]
    assert len(pages) == 5 and all(f"count={PAGE}" in path for path in pages), pages


def test_a_provider_without_patch_is_sent_the_whole_resource(put_only_server, tmp_path,
                                                            capsys):
    env = ScimEnv(tmp_path, put_only_server)
    assert env.apply(capsys)[0] == 0
    env.org["engagements"][3]["job_function"] = "Arkitekt"  # p4, jhansen
    code, _, err = env.apply(capsys)
    assert code == 0, err
    jhansen = ours(env)["p4"]
    assert jhansen["title"] == "Arkitekt"
    assert jhansen["name"]["givenName"] == "Jens"  # the rest of it kept
    methods = [method for method, _, _ in put_only_server.requests()]
    assert f"/v2/Users/{jhansen['id']}" in {path for method, path, _
                                             in put_only_server.requests() if method == "PUT"}
    assert "PATCH" not in methods


def test_a_429_is_retried_after_its_retry_after_and_lands(scim_env, scim_proxy, capsys,
                                                          monkeypatch):
    scim_env.configure(url=scim_proxy.url)
    assert scim_env.apply(capsys)[0] == 0
    scim_env.org["engagements"][3]["job_function"] = "Arkitekt"
    before_each_apply(monkeypatch, lambda change, n: scim_proxy.fail(1, 429, retry_after=1))
    code, _, err = scim_env.apply(capsys)
    assert code == 0, err
    assert ours(scim_env)["p4"]["title"] == "Arkitekt"
    sent = scim_proxy.requests()
    refused = next(i for i, r in enumerate(sent) if r["status"] == 429)
    first, again = sent[refused], sent[refused + 1]
    assert (first["method"], first["path"]) == ("PATCH", f"/v2/Users/{ours(scim_env)['p4']['id']}")
    assert (again["method"], again["path"], again["status"]) == (
        first["method"], first["path"], 204)
    assert again["at"] - first["at"] >= 1.0  # it waited as long as it was asked


def test_a_provider_that_answers_429_forever_is_given_up_after_the_retries(
        scim_env, scim_proxy, capsys):
    scim_env.configure(url=scim_proxy.url, retries=2)
    scim_proxy.fail(1000, 429, retry_after=0)
    code, outcome, _ = scim_env.apply(capsys)
    assert code == 1
    assert outcome["result"] == "failure"
    assert "429" in outcome["error"] and scim_proxy.url in outcome["error"]
    sent = scim_proxy.requests()
    assert [r["status"] for r in sent] == [429] * 3  # the first try and two more
    assert len({(r["method"], r["path"]) for r in sent}) == 1  # the same request each time
    assert scim_env.users() == {}


def test_a_wrong_token_names_the_provider_and_never_the_token(scim_env, capsys):
    wrong = "not-the-token-8c41"
    scim_env.configure(token=wrong)
    code, outcome, err = scim_env.apply(capsys)
    assert code == 1 and outcome["result"] == "failure"
    assert scim_env.server.url in outcome["error"] and "401" in outcome["error"]
    for text in (outcome["error"], err):
        assert wrong not in text and TOKEN not in text
    assert scim_env.users() == {}


def test_a_name_taken_during_the_cycle_refuses_that_user_only(scim_env, capsys, monkeypatch):
    def someone_takes_aaseo(change: Change, n: int) -> None:
        if change.kind == USER and change.action is Action.CREATE and change.key == "p2":
            by_hand(scim_env.server, "aaseo")

    before_each_apply(monkeypatch, someone_takes_aaseo)
    code, outcome, err = scim_env.apply(capsys)
    assert code == 1, err
    assert outcome["result"] == "partial"
    [refused] = outcome["refused"]["messages"]
    assert refused["kind"] == USER
    assert "409" in refused["message"] and "uniqueness" in refused["message"]
    assert "already in use" in refused["message"]  # the provider's own detail
    assert set(ours(scim_env)) == {"p1", "p3", "p4", "p5"}  # the others are made
    assert scim_env.users()["aaseo"].get("externalId") is None  # the hand-made one
    assert scim_env.groups()["managers"]["members"]


def test_membership_changes_are_patch_add_and_remove_of_member_ids(scim_env, scim_proxy,
                                                                  capsys):
    scim_env.configure(url=scim_proxy.url)
    assert scim_env.apply(capsys)[0] == 0
    scim_env.org["engagements"][1]["unit"] = "it"  # Åse moves from the school to IT
    start = len(scim_proxy.requests())
    assert scim_env.apply(capsys)[0] == 0
    groups, aaseo = scim_env.groups(), ours(scim_env)["p2"]["id"]
    school, it = groups["aertebjerg-skole"]["id"], groups["it-afdelingen"]["id"]
    writes = {r["path"]: r for r in scim_proxy.requests()[start:]
              if r["path"].startswith("/v2/Groups/")}
    assert {r["method"] for r in writes.values()} == {"PATCH"}
    assert writes[f"/v2/Groups/{it}"]["body"]["Operations"] == [
        {"op": "add", "path": "members", "value": [{"value": aaseo}]}]
    assert writes[f"/v2/Groups/{school}"]["body"]["Operations"] == [
        {"op": "remove", "path": f'members[value eq "{aaseo}"]'}]
    assert {m["value"] for m in groups["it-afdelingen"]["members"]} == {
        aaseo, ours(scim_env)["p4"]["id"]}


def test_validate_checks_the_mapping_against_the_providers_schemas(untitled_server,
                                                                   tmp_path, capsys):
    env = ScimEnv(tmp_path, untitled_server)
    code, out, _ = env.run(capsys, "validate")
    assert code == 1, out
    line = next(n for n, text in enumerate(MAPPING.read_text().splitlines(), 1)
                if text.strip().startswith("title:"))
    assert f"{MAPPING}:{line}" in out and "'title'" in out
    assert "the provider's /Schemas" in out


def test_validate_checks_against_rfc_7643_when_the_provider_is_down(scim_env, scim_proxy,
                                                                    tmp_path, capsys):
    mapping = tmp_path / "scim.yaml"
    mapping.write_text(MAPPING.read_text().replace(
        '    title: "', '    costCentre: "{{ primary_unit.id }}"\n    title: "'))
    scim_env.configure(url=scim_proxy.url, mapping=mapping)
    scim_proxy.stop()
    code, out, _ = scim_env.run(capsys, "validate")
    assert code == 1, out
    line = next(n for n, text in enumerate(mapping.read_text().splitlines(), 1)
                if "costCentre" in text)
    assert f"{mapping}:{line}" in out and "'costCentre'" in out
    assert "the provider did not answer" in out and "RFC 7643's core" in out


def test_a_provider_down_mid_cycle_is_finished_by_the_next_cycle(scim_env, scim_proxy,
                                                                 capsys, monkeypatch):
    scim_env.configure(url=scim_proxy.url, retries=1)
    def goes_down(change: Change, n: int) -> None:
        if n == 4:
            scim_proxy.stop()

    before_each_apply(monkeypatch, goes_down)
    code, outcome, err = scim_env.apply(capsys)
    assert code == 1 and outcome["result"] == "failure", err
    assert scim_proxy.url in outcome["error"]
    assert len(ours(scim_env)) == 4  # what landed before it went down is kept
    monkeypatch.undo()
    scim_proxy.start()
    code, outcome, err = scim_env.apply(capsys)
    assert code == 0, err
    assert set(ours(scim_env)) == {"p1", "p2", "p3", "p4", "p5"}
    assert len(scim_env.users()) == 5  # one each, never two
    assert scim_env.groups()["managers"]["members"]


def test_a_page_answered_with_an_error_is_never_read_as_an_empty_provider(
        scim_env, scim_proxy, capsys):
    scim_env.configure(url=scim_proxy.url, retries=1)
    assert scim_env.apply(capsys)[0] == 0
    scim_proxy.fail(1000, 500, retry_after=None, path="/v2/Users?")
    code, out, err = scim_env.run(capsys, "plan", "--json")
    assert code == 1, out  # the provider cannot be read now: nothing is planned
    assert "500" in err and scim_proxy.url in err


def test_a_second_work_email_kept_by_someone_else_is_left_as_it_is(scim_env, capsys):
    assert scim_env.apply(capsys)[0] == 0
    director = scim_env.users()["soerena"]
    shared = {"type": "work", "value": "shared-mailbox@other.example"}
    scim_env.server.send("PATCH", f"/Users/{director['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "emails", "value": [shared]}]})
    code, outcome, err = scim_env.apply(capsys)
    assert code == 0 and outcome["applied"] == {}, err  # nothing of ours changed
    scim_env.org["addresses"][0]["value"] = "direktion@kolding.example"
    code, outcome, err = scim_env.apply(capsys)
    assert code == 0 and outcome["applied"] == {"user": {"update": 1}}, err
    emails = scim_env.users()["soerena"]["emails"]
    assert [e["value"] for e in emails] == ["direktion@kolding.example",
                                             "shared-mailbox@other.example"]
    assert scim_env.apply(capsys)[1]["applied"] == {}


@pytest.mark.parametrize(("key", "said"), [
    ("totalResults", "the answer is no ListResponse (no totalResults)"),
    ("Resources", "read 0 Users where it says it holds 5: not trusted as whole"),
])
def test_a_short_or_malformed_read_is_never_taken_for_an_empty_provider(
        scim_env, scim_proxy, capsys, key, said):
    assert scim_env.apply(capsys)[0] == 0
    scim_env.configure(url=scim_proxy.url, retries=0)
    scim_proxy.drop(key, "/v2/Users?")
    code, outcome, _ = scim_env.apply(capsys)
    assert code == 1 and outcome["result"] == "failure" and said in outcome["error"]
    assert len(scim_env.server.all("/Users")) == 5  # nothing created twice
    assert not [r for r in scim_proxy.requests() if r["method"] != "GET"]
    store = open_store(f"sqlite:///{scim_env.root / 'store.db'}")
    assert {a.state for a in store.accounts("scim").values()} == {"active"}
    store.close()


def test_a_group_listed_without_its_members_is_asked_for_them(scim_env, scim_proxy, capsys):
    """Some providers leave members out of a list of groups: a mover must still leave."""
    scim_env.configure(url=scim_proxy.url)
    scim_proxy.drop("Resources/members", "/v2/Groups?")
    assert scim_env.apply(capsys)[0] == 0
    scim_env.org["engagements"][1].update(unit="it")  # p2 (aaseo) moves from skole to it
    code, _, err = scim_env.apply(capsys)
    assert code == 0, err
    aase = scim_env.users()["aaseo"]["id"]
    members = {name: {m["value"] for m in g.get("members") or []}
               for name, g in scim_env.groups().items()}
    assert aase in members["it-afdelingen"] and aase not in members["aertebjerg-skole"]
    assert any("attributes=members" in r["path"] for r in scim_proxy.requests())
    assert scim_env.apply(capsys)[1]["applied"] == {}


def test_a_write_answered_503_is_never_sent_twice(scim_env, scim_proxy, capsys, monkeypatch):
    """A gateway's 503 says nothing of whether the create behind it landed."""
    scim_env.configure(url=scim_proxy.url, retries=3)
    before_each_apply(monkeypatch, lambda change, n: n == 0 and scim_proxy.fail(1, 503))
    code, outcome, err = scim_env.apply(capsys)
    assert code == 1 and "503" in outcome["error"], err
    assert [r["status"] for r in scim_proxy.requests() if r["method"] == "POST"] == [503]
    monkeypatch.undo()
    assert scim_env.apply(capsys)[0] == 0
    assert len(scim_env.server.all("/Users")) == 5


def test_validate_refuses_a_sub_attribute_of_a_reference(scim_env, tmp_path, capsys):
    """`manager.value` would pass the schema, then fail every cycle at plan time."""
    mapping = tmp_path / "scim.yaml"
    mapping.write_text(MAPPING.read_text(encoding="utf-8").replace(
        "enterprise:2.0:User:manager\n", "enterprise:2.0:User:manager.value\n"),
        encoding="utf-8")
    scim_env.configure(mapping=mapping)
    code, out, _ = scim_env.run(capsys, "validate")
    assert code == 1, out
    line = next(n for n, text in enumerate(mapping.read_text().splitlines(), 1)
                if text.strip().startswith("manager_attribute:"))
    assert f"{mapping}:{line}: users.manager_attribute:" in out
    assert "name it whole (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:" \
           "manager), without .value" in out
