"""The inbox's memory of keys and blocks: bounded, and never keeping what was read before a change."""

from __future__ import annotations

from fedihub.federation.intake_cache import BlockCache, KeyCache
from fedihub.protocol.signatures import PublicKeyInfo


def key(n: int, owner: str = "https://masto.example/users/alice") -> PublicKeyInfo:
    return PublicKeyInfo(key_id=f"{owner}#key-{n}", owner=owner, public_key_pem=f"pem {n}")


def test_a_flood_of_new_keys_keeps_memory_bounded_and_the_keys_in_use() -> None:
    cache = KeyCache(capacity=3)
    for n in range(3):
        cache.remember(key(n), cache.generation)
    assert cache.find(key(0).key_id) == key(0)  # in use: kept over the others

    for n in range(3, 10):
        cache.remember(key(n), cache.generation)

    assert len(cache) == 3
    assert cache.find(key(0).key_id) is None
    assert cache.find(key(9).key_id) == key(9)


def test_a_key_read_before_its_actor_changed_is_not_kept() -> None:
    cache = KeyCache()
    generation = cache.generation  # a lookup starts reading the old row…
    cache.forget_actor(key(1).owner)  # …the actor's new key is stored meanwhile

    cache.remember(key(1), generation)

    assert cache.find(key(1).key_id) is None


def test_forgetting_an_actor_forgets_all_its_keys_and_only_them() -> None:
    cache = KeyCache()
    bob = key(5, owner="https://masto.example/users/bob")
    for info in (key(1), key(2), bob):
        cache.remember(info, cache.generation)

    cache.forget_actor(key(1).owner)

    assert cache.find(key(1).key_id) is None and cache.find(key(2).key_id) is None
    assert cache.find(bob.key_id) == bob


def test_a_block_list_read_before_a_block_is_not_kept() -> None:
    cache = BlockCache()
    generation = cache.generation
    cache.forget()  # a block was committed while the old list was being read

    cache.remember(["other.example"], generation)

    assert cache.domains is None
    cache.remember(["other.example", "blocked.example"], cache.generation)
    assert cache.domains == ("other.example", "blocked.example")
