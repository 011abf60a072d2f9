"""What the staff pages for printing share: the police pack, the paper bulletin and the
statistics are server-rendered HTML (Jinja, autoescaped, server/templates/) styled by
one print stylesheet (web/print.css) and nothing else: no script, no inline style, no
other origin.

Every string on those pages comes from server/locales/<language>.json through t(), in
the ten languages of the app: a page takes `?lang=` (one of LANGUAGES), else the
browser's Accept-Language, else English; a missing key falls back to English. So an
outreach worker can print a bulletin in any of the ten.
"""
import csv
import functools
import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

from flask import Response, has_request_context, render_template, request, stream_with_context
from marshmallow import ValidationError, fields

from .clock import utcnow

# The OpenAPI document of a printable page's GET (@blp.doc(**PRINTABLE_PAGE)).
PRINTABLE_PAGE = {"responses": {"200": {"description": "A printable HTML page",
                                        "content": {"text/html": {}}}}}
LOCALES = Path(__file__).resolve().parent / "locales"
# The app's languages (LANGUAGES in web/i18n.js), with their own names for the language picker.
LANGUAGES = {"en": "English", "es": "Español", "pt-BR": "Português (Brasil)", "ro": "Română",
             "bg": "Български", "pl": "Polski", "hu": "Magyar", "th": "ไทย",
             "zh-CN": "简体中文", "ar": "العربية"}
RTL = {"ar"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def _catalogue(language):
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def _match(tag):
    """A language tag -> one of LANGUAGES or None ("pt" -> "pt-BR", "zh-Hans" -> "zh-CN")."""
    lower = str(tag or "").lower()
    for code in LANGUAGES:
        if code.lower() == lower:
            return code
    base = lower.split("-")[0]
    return next((code for code in LANGUAGES if code.lower().split("-")[0] == base), None)


def language():
    """The language of this page: ?lang=, else Accept-Language, else English."""
    if not has_request_context():
        return "en"
    chosen = _match(request.args.get("lang"))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        found = _match(tag)
        if found:
            return found
    return "en"


def plural_form(lang, n):
    """The CLDR plural category of a whole number n in `lang` (as Intl.PluralRules picks
    it in the app): "zero", "one", "two", "few", "many" or "other"."""
    n = abs(int(n))
    base = lang.split("-")[0]
    if base in ("th", "zh"):
        return "other"
    if base == "pt":
        return "one" if n in (0, 1) else "other"
    if base == "ro":
        if n == 1:
            return "one"
        return "few" if n == 0 or 1 <= n % 100 <= 19 else "other"
    if base == "pl":
        if n == 1:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if base == "ar":
        if n in (0, 1, 2):
            return ("zero", "one", "two")[n]
        if 3 <= n % 100 <= 10:
            return "few"
        return "many" if 11 <= n % 100 <= 99 else "other"
    return "one" if n == 1 else "other"


def t(key, **params):
    """The text for `key` in this page's language with its {placeholders} filled. With
    `n` the key's plural form (`key_one`, `key_few`, ... `key_other`) is used. A key
    missing from every catalogue raises: every page is rendered by the tests."""
    lang = language()
    strings, english = _catalogue(lang), _catalogue("en")
    text = None
    if isinstance(params.get("n"), int):
        form = plural_form(lang, params["n"])
        text = (strings.get(f"{key}_{form}") or strings.get(f"{key}_other")
                or english.get(f"{key}_{'one' if params['n'] == 1 else 'other'}"))
    if text is None:
        text = strings.get(key) or english[key]
    return _PLACEHOLDER.sub(
        lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), text)


def label(key, value):
    """The words for a picked value ("gender.man" -> "Man"), or the value as written when
    it is not one of the listed ones (older reports, free text)."""
    key = f"{key}.{value}"
    if key in _catalogue(language()) or key in _catalogue("en"):
        return t(key)
    return value


def format_date(day):
    """A date (or "YYYY-MM-DD") the way this page's language writes it: "30 November 2026"."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return t("date.long", day=day.day, month=t(f"month_in_date.{day.month}"), year=day.year)


def format_month(month):
    """"2026-03" -> "March 2026"."""
    year, number = month.split("-")
    return t("date.month_year", month=t(f"month.{int(number)}"), year=year)


def render_page(template, status=200, **context):
    """A printable page: never cached (a police pack carries contact details)."""
    lang = language()
    html = render_template(template, t=t, label=label, format_date=format_date, lang=lang,
                           direction="rtl" if lang in RTL else "ltr", languages=LANGUAGES,
                           printed_on=utcnow().date(), **context)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def page_query(schema):
    """Read a page's query string as its filter form sends it: empty fields count as not
    given, a List field takes every value of a repeated key, and `lang` is left to
    language(). Returns (data, errors);
    the page shows the errors instead of a JSON 422."""
    by_key = {field.data_key or name: field for name, field in schema.load_fields.items()}
    raw = {}
    for key in request.args:
        if key == "lang":  # the page's language (language()), not a filter
            continue
        values = [value for value in request.args.getlist(key) if value.strip()]
        if values:
            raw[key] = values if isinstance(by_key.get(key), fields.List) else values[0]
    try:
        return schema.load(raw), {}
    except ValidationError as error:
        return {}, {field: _flatten(messages) for field, messages in error.messages.items()}


def _flatten(messages):
    """marshmallow nests a list item's messages under its index: one flat list to show."""
    if isinstance(messages, dict):
        return [text for value in messages.values() for text in _flatten(value)]
    if isinstance(messages, (list, tuple)):
        return [text for value in messages for text in _flatten(value)]
    return [str(messages)]


def csv_download(header, rows, filename):
    """A CSV attachment. Lists are joined with "; ". Every cell is neutralised against
    formulas (neutralise_cell): report text is typed by anyone."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_stream(header, rows, filename, chunk_rows=500, cells=None):
    """csv_download() for exports of any size: the rows (an iterator) are written to the
    client as they are read, chunk_rows at a time, so memory stays flat. cells: row ->
    its cells as text, as csv_cell renders them (default: csv_cell of each value)."""
    cells = cells or (lambda row: [csv_cell(value) for value in row])

    def generate():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(header)
        for number, row in enumerate(rows, start=1):
            writer.writerow(cells(row))
            if number % chunk_rows == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# OWASP "CSV Injection": a cell a spreadsheet may run as a formula starts with one of
# these, possibly after whitespace or invisible characters, possibly in full-width or
# small form (read through NFKC: U+FF1D and U+FE66 are "=").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _ignorable(char):
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def neutralise_cell(value):
    """`value` as text a spreadsheet shows and never evaluates: a cell whose first
    visible character starts a formula gets a leading apostrophe (OWASP)."""
    text = str(value)
    if text[:1].isascii() and text[:1].isalnum():
        # The common case, decided at once: an ASCII letter or digit is visible, starts
        # no formula, and is itself under NFKC (an export runs this for every cell).
        return text
    first = next((c for c in text if not _ignorable(c)), "")
    if text[:1] in FORMULA_STARTS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_cell(value):
    """A value as one CSV cell: None is empty, a list is joined with "; ", and the text
    is neutralised against formulas (neutralise_cell)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(item) for item in value)
    return neutralise_cell(value)
