"""The quick load of a sync item (server/schemas.py quick_loader) answers exactly as
marshmallow's ReportSchema.load: the same dict, in the same key order, for what it
accepts, and the same errors for what it refuses, on any input."""
import copy
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.reports import service
from server.reports.schemas import ReportSchema
from server.schemas import quick_loader

from factories import full_report, new_report

SCHEMA = ReportSchema()
QUICK = quick_loader(SCHEMA)


def outcome(load, item):
    try:
        result = load(copy.deepcopy(item))
    except ValidationError as error:
        return "invalid", error.messages
    return "loaded", result, [list(result)] + [
        list(v) for v in result.values() if isinstance(v, dict)]  # key order, nested too


def agrees(item):
    expected = outcome(SCHEMA.load, item)
    assert outcome(QUICK, item) == expected, item
    return expected[0]


def test_the_report_schema_takes_the_quick_path():
    assert getattr(QUICK, "quick", False) and getattr(service.load_report, "quick", False)


LONG = "x" * 5001
CASES = {
    "minimal": new_report(),
    "full": full_report(),
    "nulls for optional parts": new_report(part_of_day=None, offender=None, consent=None,
                                           support=None, perpetrator=None, targeted_because=None),
    "empty parts": new_report(offender={}, consent={}, support={}, targeted_because=[]),
    "legacy police consent": new_report(consent={"publish": True, "police": "with_contact"}),
    "come back false": new_report(support={"requested": False, "come_back": False}),
    "come back true": new_report(support={"come_back": True}),
    "vehicle nulls": new_report(offender={"vehicle": {"make": None, "plate": "AB12 CDE"}}),
    "non-ascii text": new_report(description="Er nahm das Geld zurück. 他拿回了钱。"),
    "uuid without dashes": new_report(id=uuid.uuid4().hex),
    "uppercase uuid": new_report(id=str(uuid.uuid4()).upper()),
    "week date": new_report(occurred_on="2026-W44-1"),  # Python's ISO reader takes these
    "compact date": new_report(occurred_on="20261101"),
    # Refused: each must get marshmallow's own messages.
    "unknown field": new_report(colour="red"),
    "unknown nested field": new_report(offender={"shoe_size": "44"}),
    "unknown area": new_report(area="atlantis"),
    "blank description": new_report(description="   "),
    "long description": new_report(description=LONG),
    "NUL in description": new_report(description="a\x00b"),
    "NUL in a nested list": new_report(offender={"names": ["Da\x00ve"]}),
    "NUL in a dict key": {**new_report(), "off\x00ender": {}},
    "surrogate in a phone": new_report(offender={"phones": ["\ud800 07700 900123"]}),
    "surrogate in a vehicle": new_report(offender={"vehicle": {"make": "\udfff"}}),
    "future date": new_report(occurred_on="2999-01-01"),
    "bad date": new_report(occurred_on="yesterday"),
    "date as number": new_report(occurred_on=20261101),
    "repeated incident type": new_report(incident_types=["robbery", "robbery"]),
    "no incident type": new_report(incident_types=[]),
    "incident types not a list": new_report(incident_types="robbery"),
    "incident types a tuple-ish dict": new_report(incident_types={"robbery": 1}),
    "unknown incident type": new_report(incident_types=["shouting"]),
    "eleven phones": new_report(offender={"phones": ["07700 900123"] * 11}),
    "phone not text": new_report(offender={"phones": [7700900123]}),
    "bad email": new_report(offender={"emails": ["not an email"]}),
    "boolean as string": new_report(on_behalf="true"),
    "boolean as 1": new_report(consent={"publish": 1}),
    "nested not an object": new_report(offender=["Dave"]),
    "consent publish null": new_report(consent={"publish": None}),
    "id missing": {k: v for k, v in new_report().items() if k != "id"},
    "id not a uuid": new_report(id="not-a-uuid"),
    "id a number": new_report(id=7),
    "area null": new_report(area=None),
    "not an object": ["a", "list"],
    "a string": "a report",
    "null": None,
}


def test_each_case_agrees_with_marshmallow(app, areas):
    outcomes = {name: agrees(item) for name, item in CASES.items()}
    assert [name for name, result in outcomes.items() if result == "loaded"] == list(CASES)[:13]


def test_valid_cases_take_the_quick_path(app, areas, monkeypatch):
    """A valid item never falls back to marshmallow (else the speed is not there)."""
    def refuse(*args, **kwargs):
        raise AssertionError("fell back to marshmallow")
    quick = quick_loader(ReportSchema())
    monkeypatch.setattr(ReportSchema, "load", refuse)
    for name in ("minimal", "full", "nulls for optional parts", "empty parts",
                 "legacy police consent", "come back false", "vehicle nulls", "non-ascii text"):
        quick(copy.deepcopy(CASES[name]))


# Any value a JSON body can hold, and reports changed one field at a time.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(
        ["", " ", "x", "robbery", "hackney", "night", "client", "none", "07700 900123",
         "a@b.example", "2026-11-01", "\x00", "\ud800", "é" * 3, str(uuid.uuid4())]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["names", "phones", "make", "publish", "police", "requested",
                         "contact", "x"]), inner, max_size=3),
    max_leaves=6)
FIELDS = ["id", "occurred_on", "part_of_day", "area", "incident_types", "description",
          "offender", "consent", "support", "perpetrator", "targeted_because", "on_behalf",
          "unknown"]
NESTED = {"offender": ["gender", "names", "phones", "emails", "vehicle", "contact_method", "x"],
          "consent": ["publish", "police", "x"], "support": ["requested", "contact",
                                                             "come_back", "x"]}


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(base=st.sampled_from(["minimal", "full"]), changes=st.lists(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from([None, *NESTED]), st.integers(0, 9),
              st.booleans(), JSON), max_size=3))
def test_any_change_agrees_with_marshmallow(app, areas, base, changes):
    item = copy.deepcopy(CASES[base])
    for field, nested_in, which, remove, value in changes:
        if nested_in and isinstance(item.get(nested_in), dict):
            key = NESTED[nested_in][which % len(NESTED[nested_in])]
            target = item[nested_in]
        else:
            key, target = field, item
        if remove:
            target.pop(key, None)
        else:
            target[key] = value
    agrees(item)
