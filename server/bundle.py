"""The first screen's bundle: its modules in one file, made from web/ when the shell is built.

On a slow phone each ES module is a request, and 13 modules before the report form is
usable were three waves of round trips (6 HTTP/1.1 connections, 400 ms each) on a first
open, and 13 answers from the service worker offline. So the server serves the first
screen's static module graph (web/app.js and web/screens/report.js with everything they
import statically) as ONE module, BUNDLE_URL, generated here from the source files (no
build step: the files in web/ stay the source, `tsc` checks them, a change is a new shell).

In the bundle each module is a function of its own (its own scope, its code unchanged but
for its import and export statements), run once, when first asked for, and returning its
exports; its imports are the returns of the functions of the modules it imports, called
first and in its import order, as a browser evaluates modules. Each module's own address
(/static/db.js) answers a two-line module that exports that module's names from the
bundle's function, so every importer (later screens, the service worker, tests'
`import('/static/…')`) gets the same one instance: one language state, one router, one
database connection. A module runs only when imported: the service worker, which imports
db.js or areas.js, never runs app.js or router.js (they touch the page).

What the generator accepts, as the code in web/ is written (anything else raises
BundleError, so the server refuses to start; tests/test_budget.py links the result):
- `import {a, b as c} from './x.js'`, `import * as x from './x.js'`, `import './x.js'`;
- `export function|async function|class|const NAME`, `export {a, b as c}`,
  `export {a, b as c} from './x.js'`;
- `import('…')` with a string (made absolute: the bundle is not where the module was),
  or a template starting with `./` in a module of web/ itself (the bundle's folder); it
  runs a bundled module from the bundle (the router's import of the report screen is no
  request and no wait), any other through the browser.
Not: default imports or exports, `export *`, `export let|var` (an importer would keep the
first value), destructuring exports, `import.meta`, import cycles (a module would run
before the one it imports).
"""
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

BUNDLE = "first-screen.js"
BUNDLE_URL = f"/static/{BUNDLE}"
# The bundle's own names; no module may use a name starting with this.
PREFIX = "$rf"
# A bundled module's import() calls this instead (HEADER).
IMPORT = f"{PREFIX}import"
# The bundled modules' functions by the address each is served at (HEADER).
MODULES = f"{PREFIX}modules"


class BundleError(RuntimeError):
    """web/ holds code the bundle generator cannot keep the meaning of."""


# --- A small JavaScript lexer: enough to find import and export statements -------------

_NAME = re.compile(r"[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")
_NUMBER = re.compile(r"(?:\d|\.\d)[\w.]*")
_PUNCT = re.compile(r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|==|!=|<=|>=|&&|\|\||\?\?"
                    r"|\?\.(?!\d)|\+\+|--|\+=|-=|\*=|/=|%=|&=|\|=|\^=|\*\*|<<|>>|[{}()\[\];,<>+\-*/%&|^!~?:=.@#]")
_LEXEMES = (("name", _NAME), ("number", _NUMBER), ("punct", _PUNCT))
# After these words a "/" starts a regular expression, not a division.
_BEFORE_REGEX = frozenset({"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
                           "throw", "case", "do", "else", "yield", "await"})


@dataclass(frozen=True)
class Token:
    kind: str  # name, number, string, template (a piece up to "${" or the closing "`"), regex, punct
    text: str
    start: int
    end: int


def _fail(name, source, at, message):
    line = source.count("\n", 0, at) + 1
    raise BundleError(f"web/{name}, line {line}: {message}")


def tokens(name, source):
    """The tokens of a module's source, comments and white space left out."""
    found, braces, i, n = [], [], 0, len(source)

    def template(i):  # from just after "`" or the "}" ending a substitution
        start = i
        while i < n:
            char = source[i]
            if char == "\\":
                i += 2
            elif char == "`":
                return i + 1, True
            elif source.startswith("${", i):
                return i + 2, False
            else:
                i += 1
        _fail(name, source, start, "unterminated template")

    while i < n:
        char = source[i]
        if char in " \t\n\r\v\f\ufeff\u00a0\u2028\u2029":
            i += 1
            continue
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                _fail(name, source, i, "unterminated comment")
            i = end + 2
            continue
        start = i
        if char in "'\"":
            i += 1
            while i < n and source[i] != char:
                if source[i] in "\n\r":
                    _fail(name, source, start, "unterminated string")
                i += 2 if source[i] == "\\" else 1
            if i >= n:
                _fail(name, source, start, "unterminated string")
            i += 1
            found.append(Token("string", source[start:i], start, i))
            continue
        if char == "`" or (char == "}" and braces and braces[-1] == "${"):
            if char == "}":
                braces.pop()
            i, closed = template(i + 1)
            if not closed:
                braces.append("${")
            found.append(Token("template", source[start:i], start, i))
            continue
        previous = found[-1] if found else None
        if char == "/" and (previous is None
                            or (previous.kind == "punct" and previous.text not in (")", "]"))
                            or (previous.kind == "name" and previous.text in _BEFORE_REGEX)):
            i += 1
            in_class = False
            while i < n and (in_class or source[i] != "/"):
                if source[i] in "\n\r":
                    _fail(name, source, start, "unterminated regular expression")
                if source[i] == "\\":
                    i += 1
                elif source[i] == "[":
                    in_class = True
                elif source[i] == "]":
                    in_class = False
                i += 1
            if i >= n:
                _fail(name, source, start, "unterminated regular expression")
            i += 1
            while i < n and source[i].isalpha():
                i += 1
            found.append(Token("regex", source[start:i], start, i))
            continue
        kind, match = next(((kind, found_here) for kind, pattern in _LEXEMES
                            if (found_here := pattern.match(source, i))), (None, None))
        if match is None:
            _fail(name, source, i, f"unexpected character {char!r}")
        i = match.end()
        if kind == "punct" and match.group() == "{":
            braces.append("{")
        elif kind == "punct" and match.group() == "}":
            if not braces:
                _fail(name, source, start, "unbalanced }")
            braces.pop()
        found.append(Token(kind, match.group(), start, i))
    if braces:
        _fail(name, source, n, "unbalanced {")
    return found


# --- One module: its imports, exports and code -------------------------------------------

@dataclass
class Module:
    """name: path under web/; requests: [(kind, target, bindings)] in source order, kind
    "import" (bindings [(imported, local)], "*" imported for a namespace; [] for a bare
    import) or "from" (re-exports: bindings [(imported, exported)]); exports: {exported:
    local} of its own names; code: its source without import and export statements."""
    name: str
    requests: list
    exports: dict
    code: str


def _resolve(name, source, token):
    """web/-relative path of the module a specifier token names, from module `name`."""
    specifier = token.text[1:-1]
    if specifier.startswith("/static/"):
        target = specifier[len("/static/"):]
    elif specifier.startswith(("./", "../")):
        target = os.path.normpath((PurePosixPath(name).parent / specifier).as_posix())
    else:
        _fail(name, source, token.start, f"cannot bundle an import of {specifier!r}")
    if target.startswith("..") or not target.endswith(".js") or "\\" in target:
        _fail(name, source, token.start, f"{specifier!r} is not a module of web/")
    return target


# A statement starts with one of these words on a new line (semicolons left out).
_STATEMENT_WORDS = frozenset({"export", "import", "const", "let", "var", "function", "async", "class",
                              "if", "for", "while", "do", "return", "throw", "try", "switch"})


def _more_declarators(source, found, k):
    """Whether the `const` declaration whose first initializer starts at found[k] declares
    more names (a "," outside brackets before the statement ends)."""
    depth = 0
    for index in range(k, len(found)):
        token = found[index]
        if token.kind == "punct" and token.text in "([{":
            depth += 1
        elif token.kind == "punct" and token.text in ")]}":
            depth -= 1
        elif depth == 0 and token.text == ";":
            return False
        elif depth == 0 and token.text == ",":
            return True
        elif (depth == 0 and token.kind == "name" and token.text in _STATEMENT_WORDS
              and "\n" in source[found[index - 1].end:token.start]):
            return False
    return False


def parse(name, source):
    """Module `name` (its path under web/), from its source."""
    if PREFIX in source:
        _fail(name, source, source.index(PREFIX), f"names starting with {PREFIX} are the bundle's")
    found = tokens(name, source)
    requests, exports, cuts = [], {}, []  # cuts: (start, end, replacement)
    i = 0

    def at(k):
        return found[k] if k < len(found) else Token("end", "", len(source), len(source))

    def expect(k, text=None, kind=None):
        token = at(k)
        if (text is not None and token.text != text) or (kind is not None and token.kind != kind):
            _fail(name, source, token.start, f"cannot bundle this: expected {text or kind}, found "
                  f"{token.text or 'the end'!r}")
        return token

    def binding_list(k):
        """{a, b as c} from k (at "{") -> ([(a, a), (b, c)], index after "}")."""
        expect(k, "{")
        k += 1
        pairs = []
        while at(k).text != "}":
            first = expect(k, kind="name").text
            second = first
            k += 1
            if at(k).text == "as":
                second = expect(k + 1, kind="name").text
                k += 2
            if "default" in (first, second):
                _fail(name, source, at(k).start, "cannot bundle default imports or exports")
            pairs.append((first, second))
            if at(k).text == ",":
                k += 1
            elif at(k).text != "}":
                expect(k, "}")
        return pairs, k + 1

    def statement_end(k):
        """Index after an import's or export's specifier (and its ";", if any)."""
        if at(k).text in ("with", "assert") and source.count("\n", at(k - 1).end, at(k).start) == 0:
            _fail(name, source, at(k).start, "cannot bundle import attributes")
        return k + 1 if at(k).text == ";" else k

    while i < len(found):
        token = found[i]
        after_dot = i > 0 and found[i - 1].text in (".", "?.")
        if token.kind != "name" or after_dot or token.text not in ("import", "export") \
                or at(i + 1).text == ":":
            i += 1
            continue
        if token.text == "import" and at(i + 1).text == "(":
            argument = at(i + 2)
            if argument.kind == "string" and at(i + 3).text == ")":
                target = _resolve(name, source, argument)
                cuts.append((token.start, argument.end, f"{IMPORT}('/static/{target}'"))
            elif argument.kind == "template" and argument.text.startswith("`./") and "/" not in name:
                cuts.append((token.start, token.end, IMPORT))
            else:
                _fail(name, source, argument.start, "cannot bundle this import(): give a string, "
                      "or a template starting with ./ in a module of web/ itself")
            i += 3
            continue
        if token.text == "import" and at(i + 1).text == ".":
            _fail(name, source, token.start, "cannot bundle import.meta")
        k = i + 1
        if token.text == "import":
            if at(k).kind == "string":
                requests.append(("import", _resolve(name, source, at(k)), []))
                k += 1
            elif at(k).text == "*":
                expect(k + 1, "as")
                local = expect(k + 2, kind="name").text
                expect(k + 3, "from")
                requests.append(("import", _resolve(name, source, expect(k + 4, kind="string")),
                                 [("*", local)]))
                k += 5
            elif at(k).text == "{":
                pairs, k = binding_list(k)
                expect(k, "from")
                requests.append(("import", _resolve(name, source, expect(k + 1, kind="string")), pairs))
                k += 2
            else:
                _fail(name, source, at(k).start, "cannot bundle default imports")
            k = statement_end(k)
            cuts.append((token.start, at(k - 1).end, ""))
            i = k
            continue
        # export
        word = at(k).text
        if word == "{":
            pairs, k = binding_list(k)
            if at(k).text == "from":
                requests.append(("from", _resolve(name, source, expect(k + 1, kind="string")), pairs))
                k += 2
            else:
                for local, exported in pairs:
                    exports[exported] = local
            k = statement_end(k)
            cuts.append((token.start, at(k - 1).end, ""))
            i = k
            continue
        if word == "async" and at(k + 1).text == "function":
            k += 1
        if at(k).text == "function" and at(k + 1).text == "*":
            k += 1
        if word in ("function", "async", "class", "const"):
            declared = expect(k + 1, kind="name")
            if word == "const" and (at(k + 2).text != "=" or _more_declarators(source, found, k + 3)):
                _fail(name, source, declared.start, "cannot bundle this export: one name per export const")
            exports[declared.text] = declared.text
            cuts.append((token.start, at(i + 1).start, ""))
            i += 1
            continue
        _fail(name, source, token.start, f"cannot bundle `export {word}` (live or default exports)")
    code, last = [], 0
    for start, end, replacement in cuts:
        code.append(source[last:start])
        code.append(replacement)
        last = end
    code.append(source[last:])
    return Module(name, requests, exports, "".join(code))


# --- The bundle ---------------------------------------------------------------------------

def graph(web, entries):
    """{name: Module} of the entries and every module they import statically, in the order
    a browser evaluates them (each after the modules it imports). Raises BundleError on an
    import cycle or a module that is not there."""
    modules, order, visiting = {}, [], []

    def visit(name, by):
        if name in modules:
            return
        if name in visiting:
            cycle = [*visiting[visiting.index(name):], name]
            raise BundleError("import cycle: " + " -> ".join(f"web/{step}" for step in cycle))
        path = web / name
        if not path.is_file():
            raise BundleError(f"web/{by} imports web/{name}, which is not there")
        visiting.append(name)
        module = parse(name, path.read_text(encoding="utf-8"))
        for _, target, _ in module.requests:
            visit(target, name)
        visiting.pop()
        modules[name] = module
        order.append(name)

    for entry in entries:
        visit(entry, entry)
    return {name: modules[name] for name in order}


HEADER = """\
// The first screen's modules (server/bundle.py writes this from web/ when the server
// starts; the files in web/ are the source). Each module is a function run once, when
// its own address (/static/<its path>, which exports its names from here) is imported.
const {prefix} = (make) => {{ let made; return () => made || (made = make()); }};
// import() in these modules: a module that is here is run from here, in a microtask (no
// request, and no task in which the page could paint a half-drawn screen); any other is
// the browser's. Its exports come as the module's own address would give them.
const {import_} = (specifier) => {{
  const made = {modules}[new URL(specifier, import.meta.url).pathname];
  return made ? Promise.resolve().then(() => made()) : import(specifier);
}};
"""


def _object(entries):
    """An object literal with no prototype: a module's exports, as its importers read them."""
    return "{ " + ", ".join(["__proto__: null"] + [
        key if key == value else f"{key}: {value}" for key, value in entries]) + " }"


def build(web, entries):
    """(bundle source, {name: the module served at its own address}, [bundled names]):
    `entries` (paths under web/) and their static imports. Deterministic: the same files
    make the same bytes."""
    modules = graph(web, entries)
    ids = {name: f"{PREFIX}{index}" for index, name in enumerate(modules)}
    parts, stubs = [HEADER.format(prefix=PREFIX, import_=IMPORT, modules=MODULES)], {}
    for name, module in modules.items():
        lines = []
        re_exports = []
        for kind, target, pairs in module.requests:
            made = f"{ids[target]}()"
            if kind == "from":
                lines.append(f"{made};")
                re_exports += [(exported, f"{made}.{imported}") for imported, exported in pairs]
            elif not pairs:
                lines.append(f"{made};")
            elif pairs[0][0] == "*":
                lines.append(f"const {pairs[0][1]} = {made};")
            else:
                bindings = ", ".join(a if a == b else f"{a}: {b}" for a, b in pairs)
                lines.append(f"const {{ {bindings} }} = {made};")
        exported = list(module.exports.items()) + re_exports
        names = [key for key, _ in exported]
        if len(set(names)) != len(names):
            raise BundleError(f"web/{name} exports a name twice")
        parts.append(f"\n// web/{name}\nconst {ids[name]} = {PREFIX}(() => {{\n" + "\n".join(lines)
                     + f"\n{module.code.rstrip()}\nreturn {_object(exported)};\n}});\n")
        call = f"{ids[name]}()"
        stubs[name] = (f"// web/{name}: its code is in {BUNDLE_URL} (server/bundle.py).\n"
                       f"import {{ {ids[name]} }} from '{BUNDLE_URL}';\n"
                       + (f"export const {{ {', '.join(names)} }} = {call};\n" if names else f"{call};\n"))
    parts.append(f"\nconst {MODULES} = " + _object(
        (f"'/static/{name}'", made) for name, made in ids.items()) + ";\n")
    parts.append(f"\nexport {{ {', '.join(ids.values())} }};\n")
    return "".join(parts), stubs, list(modules)
