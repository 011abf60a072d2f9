"""Statistics: counts by month, incident type and area, every count under 5 shown as
"<5" in the JSON, the CSV and the page (SVG charts and tables); moderators only."""
import csv
import io
import re
import uuid
from datetime import date

import pytest

from server.extensions import db
from server.reports.models import INCIDENT_TYPES, PERPETRATOR_KINDS, TARGETED_BECAUSE, Report
from server.stats import service

from factories import StaffClient, assert_print_page, send_report

JSON_URL = "/api/v1/staff/stats"
CSV_URL = "/api/v1/staff/stats.csv"
PAGE_URL = "/staff/print/stats"


def send(client, **changes):
    return send_report(client, **changes)[0]


def day(year, month, day_=10):
    return date(year, month, day_).isoformat()


@pytest.fixture
def eight_reports(client, areas):
    """6 robberies in Hackney in January 2026, 2 thefts in Camden in March 2026."""
    hackney = [send(client, area="hackney", occurred_on=day(2026, 1, 5 + n),
                    incident_types=["robbery"]) for n in range(6)]
    camden = [send(client, area="camden", occurred_on=day(2026, 3),
                   incident_types=["theft"]) for _ in range(2)]
    return hackney, camden


def counts(figures, breakdown, key):
    return {item[key]: item["count"] for item in figures[breakdown]}


BREAKDOWNS = ("by_month", "by_incident_type", "by_area")
NEW_BREAKDOWNS = ("by_perpetrator", "by_targeted_because")


def every_count(figures):
    """Every count, in the CSV's order."""
    return ([figures["total"]]
            + [item["count"] for name in BREAKDOWNS for item in figures[name]]
            + [figures["online_harm"]]
            + [item["count"] for name in NEW_BREAKDOWNS for item in figures[name]])


def assert_no_small_number(figures):
    every = every_count(figures)
    for count in every:
        assert count == "<5" or (isinstance(count, int) and count >= 5), count


def test_small_counts_are_suppressed_in_the_json(moderator, eight_reports):
    response = moderator.get(JSON_URL)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    figures = response.get_json()
    assert figures["total"] == 8 and figures["suppressed_below"] == 5
    by_area = counts(figures, "by_area", "area")
    assert by_area["hackney"] == 6 and by_area["camden"] == "<5"
    # Every area is listed, the empty ones as "<5" too: a missing row would tell 0 from 1-4.
    assert len(by_area) == 33 and by_area["westminster"] == "<5"
    by_type = counts(figures, "by_incident_type", "incident_type")
    assert list(by_type) == list(INCIDENT_TYPES)
    assert by_type["robbery"] == 6 and by_type["theft"] == "<5" and by_type["rape"] == "<5"
    # Every month from the first incident to the last, the empty one included.
    assert counts(figures, "by_month", "month") == {"2026-01": 6, "2026-02": "<5",
                                                    "2026-03": "<5"}
    assert_no_small_number(figures)
    assert service.statistics() == figures


def test_small_counts_are_suppressed_in_the_csv(moderator, eight_reports):
    response = moderator.get(CSV_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="statistics-')
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["breakdown", "key", "label", "count"]
    body = {(b, k): (label, count) for b, k, label, count in rows[1:]}
    assert body[("total", "")] == ("All reports", "8")
    assert body[("area", "hackney")] == ("Hackney", "6")
    assert body[("area", "camden")] == ("Camden", "<5")
    assert body[("incident_type", "robbery")] == ("Robbery", "6")
    assert body[("incident_type", "theft")] == ("Theft", "<5")
    assert body[("month", "2026-01")] == ("January 2026", "6")
    assert body[("month", "2026-03")] == ("March 2026", "<5")
    assert body[("perpetrator", "not_said")] == ("Not said", "8")
    assert body[("targeted_because", "sex_work")] == ("Being a sex worker", "<5")
    assert body[("online_harm", "")][1] == "<5"
    assert len(rows) == (1 + 1 + 3 + len(INCIDENT_TYPES) + 33 + 1 + len(PERPETRATOR_KINDS) + 1
                         + len(TARGETED_BECAUSE) + 1)
    for *_, count in rows[1:]:
        assert count == "<5" or int(count) >= 5, count
    # The same figures as the JSON, row for row.
    figures = moderator.get(JSON_URL).get_json()
    assert [count for *_, count in rows[1:]] == [str(c) for c in every_count(figures)]


def test_the_page_draws_svg_charts_with_the_suppressed_figures(moderator, eight_reports):
    html = assert_print_page(moderator.get(PAGE_URL))
    assert html.count("<svg") == 5 and "xmlns" not in html
    for chart in ("by-month", "by-type", "by-area", "by-perpetrator", "by-targeted"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    assert html.count("<table>") == 5
    assert "<tr><th scope=\"row\">Hackney</th><td class=\"number\">6</td></tr>" in html
    assert "<tr><th scope=\"row\">Camden</th><td class=\"number\">&lt;5</td></tr>" in html
    # Bars only for counts shown in full: January, robbery and Hackney (6 each).
    bars = re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', html)
    assert bars == ["January 2026: 6", "Robbery: 6", "Hackney: 6", "Not said: 8", "Not said: 8"]
    assert "All reports: 8" in html
    assert re.search(r">\s*[1-4]\s*<", html) is None, "an exact small count on the page"
    assert 'href="/api/v1/staff/stats.csv"' in html


def test_date_range(moderator, eight_reports):
    figures = moderator.get(JSON_URL + "?from=2026-01-01&to=2026-01-31").get_json()
    assert figures["from"] == "2026-01-01" and figures["to"] == "2026-01-31"
    assert figures["total"] == 6
    assert counts(figures, "by_month", "month") == {"2026-01": 6}
    assert counts(figures, "by_area", "area")["camden"] == "<5"
    figures = moderator.get(JSON_URL + "?from=2026-02-01").get_json()
    assert figures["total"] == "<5"
    assert counts(figures, "by_month", "month") == {"2026-03": "<5"}
    rows = moderator.get(CSV_URL + "?from=2026-01-01&to=2026-01-31").data.decode("utf-8-sig")
    assert "total,,All reports,6" in rows
    html = assert_print_page(moderator.get(PAGE_URL + "?from=2026-01-01&to=2026-01-31&"))
    assert "1 January 2026 to 31 January 2026" in html and "All reports: 6" in html
    assert 'href="/api/v1/staff/stats.csv?from=2026-01-01&amp;to=2026-01-31"' in html
    html = assert_print_page(moderator.get(PAGE_URL + "?from=2030-01-01"))
    assert "No reports in this range." in html


def test_reports_of_the_same_incident_count_once(moderator, eight_reports):
    hackney, _ = eight_reports
    first, second = (db.session.get(Report, uuid.UUID(i)) for i in hackney[:2])
    second.linked_to_id = first.id
    db.session.commit()
    figures = moderator.get(JSON_URL).get_json()
    assert counts(figures, "by_area", "area")["hackney"] == 5 and figures["total"] == 7


def test_a_report_counts_under_each_of_its_incident_types(moderator, client, areas):
    for _ in range(5):
        send(client, incident_types=["robbery", "threats"])
    by_type = counts(moderator.get(JSON_URL).get_json(), "by_incident_type", "incident_type")
    assert by_type["robbery"] == 5 and by_type["threats"] == 5


def test_no_reports(moderator, areas):
    figures = moderator.get(JSON_URL).get_json()
    assert figures["total"] == "<5" and figures["by_month"] == []
    assert_print_page(moderator.get(PAGE_URL))


@pytest.mark.parametrize("query", ["?from=2026-13-01", "?from=2026-03-01&to=2026-02-01",
                                   "?area=hackney", "?to=soon"])
def test_bad_query_is_refused(moderator, areas, query):
    for url in (JSON_URL, CSV_URL):
        response = moderator.get(url + query)
        assert response.status_code == 422
        assert response.get_json()["errors"]["query"]
    assert_print_page(moderator.get(PAGE_URL + query), status=422)


def test_moderators_only(app, client, eight_reports):
    for url in (JSON_URL, CSV_URL, PAGE_URL):
        assert client.get(url).status_code == 401
    outreach = StaffClient(app, "van", "outreach")
    for url in (JSON_URL, CSV_URL, PAGE_URL):
        assert outreach.get(url).status_code == 403
    admin = StaffClient(app, "boss", "admin")
    assert admin.get(JSON_URL).get_json()["total"] == 8


def test_breakdowns_by_perpetrator_hate_crime_and_online_harm(moderator, client, areas):
    for _ in range(5):
        send(client, perpetrator="landlord", targeted_because=["sex_work", "religion"],
             incident_types=["image_based_abuse", "doxxing"])
    send(client, perpetrator="police_officer", incident_types=["blackmail"])
    send(client, incident_types=["theft"])
    figures = moderator.get(JSON_URL).get_json()
    perpetrators = counts(figures, "by_perpetrator", "perpetrator")
    assert list(perpetrators) == list(PERPETRATOR_KINDS) + ["not_said"]
    assert perpetrators["landlord"] == 5
    assert perpetrators["police_officer"] == "<5" and perpetrators["not_said"] == "<5"
    targeted = counts(figures, "by_targeted_because", "targeted_because")
    assert list(targeted) == list(TARGETED_BECAUSE) + ["not_said"]
    assert targeted["sex_work"] == 5 and targeted["religion"] == 5
    assert targeted["not_said"] == "<5" and targeted["disability"] == "<5"
    # A report naming two online-harm types counts once; 5 + the blackmail one.
    assert figures["online_harm"] == 6
    by_type = counts(figures, "by_incident_type", "incident_type")
    assert by_type["image_based_abuse"] == 5 and by_type["blackmail"] == "<5"
    assert_no_small_number(figures)
    html = assert_print_page(moderator.get(PAGE_URL))
    assert "A landlord" in html and "Religion" in html
    assert re.search(r">\s*[1-4]\s*<", html) is None


def test_exact_counts_come_from_one_grouped_recount(client, areas):
    import sqlalchemy as sa
    send(client, incident_types=["outing_or_blackmail"], targeted_because=["sex_work"],
         occurred_on=day(2025, 1), perpetrator="landlord")
    send(client, incident_types=["theft", "doxxing"], occurred_on=day(2025, 3))
    send(client, incident_types=["theft"], targeted_because=[],
         occurred_on=day(2025, 3))
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        exact = service.recount()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    # The recount (what the maintained summary must equal): one grouped pass over the
    # reports, one over the tally of purged ones.
    assert len(statements) == 2 and all("GROUP BY" in s for s in statements)
    assert service._counts() == exact
    assert exact["total"] == 3
    assert exact["months"] == [("2025-01", 1), ("2025-02", 0), ("2025-03", 2)]
    assert exact["types"]["theft"] == 2 and exact["types"]["doxxing"] == 1
    assert exact["types"]["outing_or_blackmail"] == 1
    assert exact["types"]["blackmail"] == 0  # a name inside another is not that name
    assert exact["online_harm"] == 2
    assert exact["targeted"]["sex_work"] == 1 and exact["targeted"]["not_said"] == 2
    assert exact["perpetrators"]["landlord"] == 1 and exact["perpetrators"]["not_said"] == 2
