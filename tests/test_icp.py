"""The ICP rule in Python: scores, tiers, must-haves and the per-criterion "why"."""

import pytest

from domain.errors import ValidationError
from domain.icp import HAS_DECISION_MAKER, Criterion, IdealCustomerProfile, Operator, Tier
from domain.leads import HasPhone

SAAS = Criterion("industry", Operator.IN, ("Software", "SaaS"), weight=30)
MIDSIZE = Criterion("employees", Operator.BETWEEN, (50, 500), weight=50)
DACH = Criterion("country", Operator.IN, ("Germany", "Austria", "Switzerland"), must_have=True)
HAS_PHONE = Criterion("phone", Operator.IS_SET, weight=20)

ICP = IdealCustomerProfile("Mid-market software, DACH", (SAAS, MIDSIZE, DACH, HAS_PHONE))

FIT = {"industry": "Software", "employees": 120, "country": "Germany", "phone": "+49 30 1"}


def test_an_account_meeting_every_criterion_scores_100_in_tier_a():
    result = ICP.evaluate(FIT)
    assert (result.score, result.tier) == (100, Tier.A)


def test_weighted_criteria_add_their_share_of_the_total_weight():
    result = ICP.evaluate({**FIT, "industry": "Retail", "phone": None})
    assert result.score == 50  # only MIDSIZE: 50 of 100 points
    assert result.tier is Tier.B


def test_failing_a_must_have_excludes_the_account():
    result = ICP.evaluate({**FIT, "country": "France"})
    assert result.excluded and result.score == 0 and result.tier is None


def test_the_why_lists_each_criterion_with_its_points():
    result = ICP.evaluate({**FIT, "employees": 20})
    why = {c.criterion.field: (c.met, c.points) for c in result.contributions}
    assert why == {
        "industry": (True, 30),
        "employees": (False, 0),
        "country": (True, 0),
        "phone": (True, 20),
    }


def test_an_empty_field_meets_no_criterion():
    assert not Criterion("industry", Operator.NOT_IN, ("Retail",)).met({"industry": None})
    assert not Criterion("employees", Operator.AT_MOST, (10,)).met({})


def test_a_field_of_only_spaces_is_empty_as_for_the_lead_definition():
    blank = {"phone": "\u00a0\t", "industry": " ", "custom": {"Stack": "\u3000"}}
    assert not HAS_PHONE.met(blank) and not HasPhone().met(blank)
    assert not Criterion("industry", Operator.NOT_IN, ("Retail",)).met(blank)
    assert not Criterion("custom:Stack", Operator.IS_SET).met(blank)


def test_tags_contain_means_one_whole_tag():
    criterion = Criterion("tags", Operator.CONTAINS, ("cloud",))
    assert criterion.met({"tags": "erp, cloud, b2b"})
    assert not criterion.met({"tags": "cloudy, erp"})


def test_decision_maker_and_custom_fields_are_criteria_too():
    dm = Criterion(HAS_DECISION_MAKER, Operator.IS_SET)
    custom = Criterion("custom:Stack", Operator.CONTAINS, ("Postgres",))
    assert dm.met({HAS_DECISION_MAKER: True}) and not dm.met({HAS_DECISION_MAKER: False})
    assert custom.met({"custom": {"Stack": "Postgres, Python"}})


def test_an_operator_given_as_text_works_as_the_operator():
    # what the ICP editor's combo boxes hand over
    dm = Criterion(HAS_DECISION_MAKER, "is set")  # type: ignore[arg-type]
    assert dm.operator is Operator.IS_SET
    assert dm.met({HAS_DECISION_MAKER: True}) and not dm.met({HAS_DECISION_MAKER: False})
    assert dm.describe() == "Has a decision-maker contact"


@pytest.mark.parametrize(
    ("score", "tier"), [(70, Tier.A), (69, Tier.B), (40, Tier.B), (39, Tier.C)]
)
def test_tier_thresholds_are_inclusive(score, tier):
    assert IdealCustomerProfile("x", tier_a=70, tier_b=40).tier(score) is tier


def test_invalid_criteria_are_reported_by_position():
    icp = IdealCustomerProfile(
        "bad",
        (Criterion("employees", Operator.IN, ("many",)), Criterion("shoe size", Operator.IS_SET)),
        tier_a=30,
        tier_b=60,
    )
    with pytest.raises(ValidationError) as error:
        icp.validate()
    assert set(error.value.problems) == {"tiers", "criterion 1", "criterion 2"}
