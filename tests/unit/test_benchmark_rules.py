"""The benchmark rules without a browser: quartiles, letters and the small-numbers rule per domain."""

from types import SimpleNamespace

import pytest

from app.services.benchmarks import MIN_PCNS, DomainSpread, Spread, domain_spreads, letter_for

QUESTIONNAIRE = SimpleNamespace(
    domains=[SimpleNamespace(id="leadership", title="Leadership"), SimpleNamespace(id="estates", title="Estates")]
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Odd counts: the quartiles fall on values.
        ([10, 20, 30, 40, 50], Spread(10, 20, 30, 40, 50)),
        ([100, 0, 50, 25, 25], Spread(0, 25, 25, 50, 100)),  # order does not matter
        # Even counts: the median is the mean of the middle two; the quartiles lie between values (inclusive method:
        # at (n - 1) / 4 and 3 (n - 1) / 4 along the sorted list).
        ([10, 20, 30, 40], Spread(10, 17.5, 25, 32.5, 40)),
        ([0, 25, 25, 25, 50, 100], Spread(0, 25, 25, 43.75, 100)),
        ([40, 40, 40, 40, 40], Spread(40, 40, 40, 40, 40)),
    ],
)
def test_spread_quartiles_on_worked_examples(values, expected):
    spread = Spread.of(values)
    assert (spread.low, spread.q1, spread.median, spread.q3, spread.high) == pytest.approx(
        (expected.low, expected.q1, expected.median, expected.q3, expected.high)
    )


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")]
)
def test_letters_run_a_to_z_then_aa(index, letter):
    assert letter_for(index) == letter


def test_letters_are_all_different():
    letters = [letter_for(i) for i in range(2000)]
    assert len(set(letters)) == len(letters)


def scores(nows: list[float], estates: int | None = None) -> list[dict[str, tuple[float, float]]]:
    """One PCN per figure: leadership (now, now + 25); estates too for the first `estates` PCNs (all if None)."""
    result = []
    for i, now in enumerate(nows):
        pcn = {"leadership": (now, now + 25)}
        if estates is None or i < estates:
            pcn["estates"] = (now, now + 50)
        result.append(pcn)
    return result


def test_below_five_pcns_a_domain_has_no_figures_only_its_count():
    spreads = domain_spreads(QUESTIONNAIRE, scores([0, 25, 50, 75]))
    assert spreads == [
        DomainSpread("leadership", "Leadership", 4, None, None),
        DomainSpread("estates", "Estates", 4, None, None),
    ]


def test_at_five_pcns_a_domain_has_figures_for_now_and_target():
    assert MIN_PCNS == 5
    leadership, estates = domain_spreads(QUESTIONNAIRE, scores([0, 25, 25, 50, 100]))
    assert leadership.count == 5
    assert leadership.now == Spread(0, 25, 25, 50, 100)
    assert leadership.target == Spread(25, 50, 50, 75, 125)
    assert estates.count == 5 and estates.target == Spread(50, 75, 75, 100, 150)


def test_a_domain_not_applicable_elsewhere_is_reported_with_its_own_count():
    """Estates was applicable for only three of the five PCNs: no figures for it, though leadership has them."""
    leadership, estates = domain_spreads(QUESTIONNAIRE, scores([0, 25, 25, 50, 100], estates=3))
    assert leadership.count == 5 and leadership.now is not None
    assert estates == DomainSpread("estates", "Estates", 3, None, None)


def test_every_domain_is_reported_in_the_questionnaires_order_even_with_no_figures():
    spreads = domain_spreads(QUESTIONNAIRE, [])
    assert [(s.domain_id, s.count, s.now) for s in spreads] == [("leadership", 0, None), ("estates", 0, None)]


def test_a_count_of_one_to_four_pcns_is_never_shown():
    from app.services.benchmarks import few

    assert few(0, 8) == "0 of 8"
    assert [few(n, 8) for n in (1, 4)] == ["fewer than 5 of 8"] * 2
    assert few(5, 8) == "5 of 8"
