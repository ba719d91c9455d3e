"""A call's federated words (its summary, the replies announcing a change or a cancellation) reach a
follower's server in the call's own language, whatever language the organizer's interface speaks."""

from __future__ import annotations

from fedihub.coalitions import calls
from fedihub.i18n.active import using
from fedihub.i18n.catalogues import Catalogues
from tests.federation.test_calls import rally_form, replies_to, stored
from tests.support.edges import committed
from tests.support.following import climate_followed_by_hub
from tests.support.network import FederationNet


async def test_a_spanish_call_tells_followers_its_changes_in_spanish_even_from_a_french_interface(
    net: FederationNet,
) -> None:
    a, b = await climate_followed_by_hub(net)
    # The organizer reads the site in French (the request's language); the call is written in Spanish.
    with using("fr", Catalogues().get("fr")):
        call = await committed(
            a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form(language="es", online_url=""))
        )
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None
    summary = there.data["summary"]
    assert summary.startswith("<p>Cuándo: viernes, 29 de marzo de 2030, 11:00–14:00 CET (Europe/Berlin)<br>Dónde: ")
    assert "When:" not in summary and "Quand" not in summary
    assert there.data["summaryMap"] == {"es": summary} and set(there.data["nameMap"]) == {"es"}

    with using("fr", Catalogues().get("fr")):
        await committed(a.ctx, calls.update_call, call.uri, calls.parse_call_form(rally_form(
            language="es", online_url="", start="2030-03-31T11:00", end="2030-03-31T15:00",
        )))
    await net.settle()
    with using("fr", Catalogues().get("fr")):
        await committed(a.ctx, calls.cancel_call, call.uri, reason="La ciudad denegó el permiso.")
    await net.settle()

    changed, cancelled = await replies_to(b, call.uri)
    assert changed.content is not None and cancelled.content is not None
    assert changed.content.startswith("<p>Cambios: <a href=")
    assert "Nueva fecha: domingo, 31 de marzo de 2030, 11:00–15:00 CEST (Europe/Berlin)" in changed.content
    assert list(changed.data["contentMap"]) == ["es"] and "Nueva fecha" in changed.data["contentMap"]["es"]
    assert "<strong>Cancelada:</strong>" in cancelled.content and "prevista para el domingo" in cancelled.content
    assert list(cancelled.data["contentMap"]) == ["es"] and "Cancelada" in cancelled.data["contentMap"]["es"]
    there = await stored(b, call.uri)
    assert there is not None and there.data["summary"].startswith("<p><strong>CANCELADA</strong></p>")


async def test_a_call_in_a_language_without_a_catalogue_says_its_english_summary_is_english(
    net: FederationNet,
) -> None:
    a, b = await climate_followed_by_hub(net)
    form = rally_form(language="de", title="Demo für den Nahverkehr", online_url="")
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(form))
    await net.settle()

    there = await stored(b, call.uri)
    assert there is not None
    assert there.data["summary"].startswith("<p>When: Friday 29 March 2030, 11:00–14:00 CET (Europe/Berlin)")
    # The organizer's own words are German; the summary this server wrote is not, and says so.
    assert there.data["nameMap"] == {"de": "Demo für den Nahverkehr"} and set(there.data["contentMap"]) == {"de"}
    assert set(there.data["summaryMap"]) == {"en"}
