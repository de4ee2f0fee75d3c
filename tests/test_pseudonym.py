from hypothesis import given
from hypothesis import strategies as st

from vigie.pseudonym import pseudonymise, seal, unseal


def test_pseudonyms_are_stable_per_platform_and_unlinkable_across() -> None:
    assert pseudonymise("s1", "account", "u-1") == pseudonymise("s1", "account", "u-1")
    assert pseudonymise("s1", "account", "u-1") != pseudonymise("s2", "account", "u-1")
    assert pseudonymise("s1", "account", "u-1") != pseudonymise("s1", "conversation", "u-1")
    assert "u-1" not in pseudonymise("s1", "account", "u-1")


@given(st.text(min_size=12, max_size=200))
def test_sealed_ids_open_only_with_their_secret(external: str) -> None:
    token = seal("secret-a", external)
    assert external not in token
    assert unseal("secret-a", token) == external
    assert unseal("secret-b", token) is None
