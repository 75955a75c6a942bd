"""The search page in headless Chromium, over the full index.

Expected values come from the API the page talks to, so the tests check that the
page shows what the service answers, whatever the index holds.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.e2e.conftest import Browsed, Service

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed; run .ci/install-browser.sh",
)
expect = sync_api.expect

pytestmark = pytest.mark.e2e


def url_params(page: Any) -> dict[str, list[str]]:
    """The page URL's query string, decoded."""
    return parse_qs(urlsplit(page.url).query)


def type_query(page: Any, text: str) -> None:
    """Type into the search box key by key, as a person would."""
    box = page.locator("#q")
    box.click()
    box.press_sequentially(text, delay=25)


def search(page: Any, text: str) -> None:
    """Type a query, press Enter and wait for its results."""
    type_query(page, text)
    page.locator("#q").press("Enter")
    expect(page.locator("#summary")).to_contain_text("for “")
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")


def hit_codes(page: Any) -> list[str]:
    """The codes of the results on screen, in order."""
    return [text.strip() for text in page.locator(".hit .code-link").all_inner_texts()]


def facet_counts(page: Any, facet: str) -> dict[str, int]:
    """A facet's values and the counts shown beside them."""
    counts = {}
    for row in page.locator(f"input[name={facet}]").all():
        label = row.locator("xpath=..")
        count = label.locator(".facet-count").inner_text().replace(",", "")
        counts[row.get_attribute("value")] = int(count)
    return counts


def test_empty_page(browsed: Browsed, service: Service) -> None:
    """The start page explains itself, shows the index size and has no results yet."""
    page = browsed.page
    page.goto("/")
    health = service.get("/api/health")
    expect(page.locator("#index-info")).to_contain_text(f"{health['documents']:,}")
    expect(page.locator("#q")).to_have_attribute("role", "combobox")
    expect(page.locator("#q")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#results")).to_be_hidden()
    assert page.locator("#examples a").count() >= 3
    browsed.shot("01-empty-page")


def test_keyboard_picks_a_code_from_suggestions(
    browsed: Browsed, service: Service
) -> None:
    """Typing "bone sc" offers M1427; arrows then Enter open its detail."""
    page = browsed.page
    page.goto("/")
    type_query(page, "bone sc")
    box = page.locator("#q")
    expect(box).to_have_attribute("aria-expanded", "true")
    expected = service.get("/api/suggest?q=bone+sc&limit=8")
    listed = page.locator("#suggestions [role=option]")
    # At most five completions are listed, so that the codes show without scrolling.
    shown = min(5, len(expected["completions"])) + len(expected["codes"])
    expect(listed).to_have_count(shown)
    completions = page.locator("#suggestions .kind-completion").all_inner_texts()
    assert completions == [c["text"] for c in expected["completions"][:5]]
    codes = page.locator("#suggestions .option-code").all_inner_texts()
    assert codes == [c["code"] for c in expected["codes"]]
    browsed.shot("02-suggestions-bone-sc")
    option = page.locator("#suggestions [role=option]", has_text="M1427")
    expect(option).to_have_count(1)
    # The count is announced to screen readers.
    expect(page.locator("#suggest-status")).to_contain_text(
        f"{listed.count()} suggestions"
    )
    # Debounced: one request for the finished text, not one per key.
    suggests = [url for url in browsed.requests if "/api/suggest" in url]
    assert 1 <= len(suggests) < len("bone sc"), suggests

    target = option.get_attribute("id")
    for _ in range(listed.count()):
        box.press("ArrowDown")
        if box.get_attribute("aria-activedescendant") == target:
            break
    assert box.get_attribute("aria-activedescendant") == target
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_value("M1427")
    box.press("Enter")

    detail = service.get("/api/codes/M1427")
    dialog = page.locator("#detail")
    expect(dialog).to_be_visible()
    expect(page.locator("#detail-heading")).to_contain_text("M1427")
    expect(dialog.locator(".detail-title")).to_have_text(detail["title"])
    expect(box).to_have_attribute("aria-expanded", "false")
    assert url_params(page)["code"] == ["M1427"]


def test_escape_restores_typed_text(browsed: Browsed) -> None:
    """Arrowing fills the box; Escape closes the list and puts back the typing."""
    page = browsed.page
    page.goto("/")
    type_query(page, "wheelch")
    box = page.locator("#q")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert box.input_value() != "wheelch"
    box.press("Escape")
    expect(box).to_have_value("wheelch")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#suggestions")).to_be_hidden()
    assert box.get_attribute("aria-activedescendant") is None


def test_specialty_facet_filters_and_survives_reload(
    browsed: Browsed, service: Service
) -> None:
    """Ticking a specialty narrows results and counts; reload and Back keep state."""
    page = browsed.page
    page.goto("/")
    search(page, "wheelchair")
    answer = service.get("/api/search?q=wheelchair&limit=20")
    expect(page.locator("#summary")).to_contain_text(f"{answer['total']:,} codes")
    assert hit_codes(page) == [hit["code"] for hit in answer["results"]]
    before_codes = hit_codes(page)
    before_systems = facet_counts(page, "system")
    specialties = facet_counts(page, "specialty")
    assert specialties == {
        v["value"]: v["count"]
        for v in answer["facets"]["specialty"][: len(specialties)]
    }
    browsed.shot("03-results-wheelchair")

    # The second specialty, so that the filter really narrows the results.
    chosen, chosen_count = list(specialties.items())[1]
    assert chosen_count < answer["total"]
    page.locator(f"input[name=specialty][value='{chosen}']").check()
    expect(page.locator("#summary")).to_contain_text(f"{chosen_count:,} codes")
    expect(page.locator(f"input[name=specialty][value='{chosen}']")).to_be_checked()
    assert url_params(page)["specialty"] == [chosen]
    after_codes = hit_codes(page)
    assert after_codes != before_codes
    assert facet_counts(page, "system") != before_systems
    assert sum(facet_counts(page, "system").values()) == chosen_count
    label = next(
        v["label"] for v in answer["facets"]["specialty"] if v["value"] == chosen
    )
    for meta in page.locator(".hit .hit-specialties").all_inner_texts():
        assert label in meta
    assert page.locator(".hit").count() == page.locator(".hit .hit-specialties").count()
    browsed.shot("04-results-wheelchair-filtered")

    page.reload()
    expect(page.locator("#q")).to_have_value("wheelchair")
    expect(page.locator(f"input[name=specialty][value='{chosen}']")).to_be_checked()
    expect(page.locator("#summary")).to_contain_text(f"{chosen_count:,} codes")
    assert hit_codes(page) == after_codes

    page.go_back()
    expect(page.locator(f"input[name=specialty][value='{chosen}']")).not_to_be_checked()
    expect(page.locator("#summary")).to_contain_text(f"{answer['total']:,} codes")
    assert hit_codes(page) == before_codes


def test_paging_moves_through_results(browsed: Browsed, service: Service) -> None:
    """Next shows the second page, kept in the URL as an offset."""
    page = browsed.page
    page.goto("/?q=wheelchair")
    expect(page.locator("#pager")).to_be_visible()
    page.locator("#next-page").click()
    expect(page.locator("#page-info")).to_contain_text("Page 2")
    second = service.get("/api/search?q=wheelchair&limit=20&offset=20")
    expect(page.locator(".hit .code-link").first).to_have_text(
        second["results"][0]["code"]
    )
    assert hit_codes(page) == [hit["code"] for hit in second["results"]]
    assert url_params(page)["offset"] == ["20"]


def test_code_detail_shows_hierarchy_and_fields(
    browsed: Browsed, service: Service
) -> None:
    """E11.9 shows every field and links to its parent, whose children list it."""
    page = browsed.page
    page.goto("/")
    search(page, "E11.9")
    page.locator(".hit .code-link", has_text=re.compile(r"^E11\.9$")).first.click()
    detail = service.get("/api/codes/E11.9?system=icd10cm")
    dialog = page.locator("#detail")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".detail-title")).to_have_text(detail["title"])
    parent = detail["parent"]
    assert parent is not None
    parent_link = dialog.locator(".field", has_text="Parent").locator("a")
    expect(parent_link).to_have_text(parent["code"])
    text = dialog.inner_text()
    for synonym in detail["synonyms"]:
        assert synonym in text
    for labelled in detail["categories"] + detail["specialties"]:
        assert labelled["label"] in text
    for term in ("Billable", "Effective", "Terminated"):
        assert term in text
    browsed.shot("05-detail-E11.9")

    parent_link.click()
    expect(page.locator("#detail-heading")).to_contain_text(parent["code"])
    parent_detail = service.get(f"/api/codes/{quote(parent['code'])}?system=icd10cm")
    children = dialog.locator(".code-list a")
    expect(children).to_have_count(len(parent_detail["children"]))
    assert "E11.9" in children.all_inner_texts()
    for note in parent_detail["context"]:
        assert note in dialog.inner_text()

    page.go_back()
    expect(page.locator("#detail-heading")).to_contain_text("E11.9")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The dialog's close event drops the code from the URL just after it hides.
    expect(page).not_to_have_url(re.compile(r"[?&]code="))
    assert url_params(page)["q"] == ["E11.9"]


def test_hcpcs_detail_says_when_no_work_rvu(browsed: Browsed, service: Service) -> None:
    """An HCPCS code with a fee-schedule status but zero work RVU says so plainly."""
    found = None
    for hit in service.get("/api/search?q=vaccine+administration&limit=20")["results"]:
        if hit["system"] != "hcpcs":
            continue
        detail = service.get(f"/api/codes/{quote(hit['code'])}?system=hcpcs")
        rvu = detail["rvu"]
        if rvu.get("status") and float(rvu.get("work_rvu") or 0) == 0:
            found = detail
            break
    if found is None:
        pytest.skip("no HCPCS result with a status and no work RVU in this index")
    page = browsed.page
    page.goto(f"/?code={quote(found['code'])}&code_system=hcpcs")
    rvu_section = page.locator("#detail .rvu")
    expect(rvu_section).to_contain_text("No work RVU assigned")
    expect(rvu_section).to_contain_text(f"Status {found['rvu']['status']}")
    for key, value in found["attributes"].items():
        if key not in found["rvu"]:
            assert value in page.locator("#detail .attributes").inner_text()
    browsed.shot("06-detail-hcpcs-rvu")


def test_did_you_mean_is_offered_and_clickable(
    browsed: Browsed, service: Service
) -> None:
    """A misspelt query shows the correction, and clicking it searches it."""
    answer = service.get("/api/search?q=wheelchiar&limit=20")
    if not answer["did_you_mean"]:
        pytest.skip("the engine offers no correction for 'wheelchiar'")
    page = browsed.page
    page.goto("/?q=wheelchiar")
    link = page.locator("#did-you-mean a")
    expect(link).to_have_text(answer["did_you_mean"])
    link.click()
    expect(page.locator("#q")).to_have_value(answer["did_you_mean"])
    assert url_params(page)["q"] == [answer["did_you_mean"]]


def test_markup_in_a_query_stays_text(browsed: Browsed) -> None:
    """A query full of HTML is shown as text; no element is created from it."""
    page = browsed.page
    page.goto("/")
    markup = "<img src=x onerror=alert(1)>"
    search(page, markup)
    expect(page.locator(".summary-query")).to_have_text(markup)
    assert page.locator("img").count() == 0
    # The same through a shared URL, with a script tag too.
    page.goto("/?q=" + quote("<script>alert(2)</script><b>bold</b>"))
    expect(page.locator(".summary-query")).to_have_text(
        "<script>alert(2)</script><b>bold</b>"
    )
    assert page.locator("#results script, #results b, img").count() == 0


def test_api_errors_are_readable(browsed: Browsed, service: Service) -> None:
    """A code that does not exist shows the API's own message, not a blank panel."""
    page = browsed.page
    page.goto("/?code=NOSUCH1")
    message = service.error("/api/codes/NOSUCH1")["message"]
    expect(page.locator("#detail .error-inline")).to_have_text(message)

    too_long = "a" * 300  # more than the API accepts in q
    page.goto(f"/?q={too_long}")
    message = service.error(f"/api/search?q={too_long}")["message"]
    expect(page.locator("#error")).to_have_text(message)
    expect(page.locator(".hit")).to_have_count(0)


def test_phone_layout_and_mouse(phone: Browsed) -> None:
    """On a phone the page fits the width, and a tapped suggestion searches it."""
    page = phone.page
    page.goto("/")
    phone.shot("07-phone-empty")
    type_query(page, "wheelch")
    first = page.locator("#suggestions .kind-completion").first
    expect(first).to_be_visible()
    phone.shot("08-phone-suggestions")
    picked = first.inner_text().strip()
    first.click()
    expect(page.locator("#q")).to_have_value(picked)
    expect(page.locator("#summary")).to_contain_text(f"“{picked}”")
    expect(page.locator(".hit").first).to_be_visible()
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the results page scrolls sideways on a phone"
    phone.shot("09-phone-results")
    page.locator(".hit .code-link").first.click()
    expect(page.locator("#detail")).to_be_visible()
    phone.shot("10-phone-detail")
