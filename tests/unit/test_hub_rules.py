"""Which objects a hub boosts: consent, public only, filters, dedupe, blocks, replies, own objects."""

from __future__ import annotations

from dataclasses import replace

from fedihub.hubs.limits import addressed_actor_ids
from fedihub.hubs.rules import Candidate, HubRules, refusal_reason, should_boost

HUB = "https://state.example/g/state-hub"
CALL = Candidate(
    object_id="https://city.example/o/1",
    type="Event",
    author_uri="https://city.example/g/tenants",
    is_public=True,
    movements=("housing",),
    regions=("Springfield", "Illinois", "US"),
    via_accepted_member=True,
)


def test_a_public_call_by_an_accepted_member_is_boosted() -> None:
    assert should_boost(HubRules(hub_uri=HUB), CALL)


def test_nothing_is_boosted_without_consent() -> None:
    assert refusal_reason(HubRules(hub_uri=HUB), replace(CALL, via_accepted_member=False)) == (
        "not from an accepted member"
    )


def test_followers_only_and_direct_posts_are_never_boosted() -> None:
    assert not should_boost(HubRules(hub_uri=HUB), replace(CALL, is_public=False))


def test_replies_announces_and_own_objects_are_never_boosted() -> None:
    rules = HubRules(hub_uri=HUB)
    assert not should_boost(rules, replace(CALL, in_reply_to="https://city.example/o/0"))
    assert not should_boost(rules, replace(CALL, type="Announce"))
    assert not should_boost(rules, replace(CALL, author_uri=HUB))


def test_each_object_is_boosted_at_most_once() -> None:
    assert not should_boost(HubRules(hub_uri=HUB), replace(CALL, already_boosted=True))


def test_blocked_authors_are_not_boosted() -> None:
    assert refusal_reason(HubRules(hub_uri=HUB), replace(CALL, author_blocked=True)) == "the author is blocked"


def test_calls_only_hubs_boost_events_but_not_notes() -> None:
    rules = HubRules(hub_uri=HUB, calls_only=True)
    assert should_boost(rules, CALL)
    assert not should_boost(rules, replace(CALL, type="Note"))
    assert should_boost(HubRules(hub_uri=HUB), replace(CALL, type="Note"))
    assert not should_boost(HubRules(hub_uri=HUB), replace(CALL, type="Question"))


def test_movement_and_region_filters_match_case_insensitively() -> None:
    assert should_boost(HubRules(hub_uri=HUB, movements=("#Housing",), regions=("illinois",)), CALL)
    assert not should_boost(HubRules(hub_uri=HUB, movements=("climate",)), CALL)
    assert not should_boost(HubRules(hub_uri=HUB, regions=("Ohio",)), CALL)


def test_a_post_addressed_to_more_groups_than_the_limit_is_never_boosted() -> None:
    rules = HubRules(hub_uri=HUB, max_addressed_groups=5)
    assert should_boost(rules, replace(CALL, addressed_groups=5))
    assert refusal_reason(rules, replace(CALL, addressed_groups=6)) == "addressed to 6 groups (more than 5)"


def test_everyone_a_post_addresses_is_read_from_to_cc_audience_and_mentions() -> None:
    doc = {
        "to": ["as:Public", "https://a.example/g/one"], "cc": ["https://a.example/g/one", "https://b.example/g/two"],
        "audience": "https://c.example/g/three",
        "tag": [{"type": "Mention", "href": "https://d.example/g/four"}, {"type": "Hashtag", "href": "https://x/t"}],
    }
    assert addressed_actor_ids(doc) == [
        "https://a.example/g/one", "https://b.example/g/two", "https://c.example/g/three", "https://d.example/g/four",
    ]
