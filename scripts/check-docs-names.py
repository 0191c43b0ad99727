#!/usr/bin/env python3
"""Lists every public name of taskmap's headers that docs/*.md does not mention as code.

Public names are read from include/taskmap/**/*.hpp, outside `namespace detail` and outside
function bodies: types (class, struct, enum), concepts, aliases (using X = ...), variables,
free functions, enumerators, and the public data members and member functions of public
classes (constructors, destructors, operators and friends left out), plus TASKMAP_* macros
without DETAIL in their name. A name counts as documented when it appears as a whole word
inside code in a docs/*.md page: a fenced block or an `inline code` span. Prose alone does
not count, so a page must show the name the way a user types it.

Usage: scripts/check-docs-names.py [--list] [repository root]
(root defaults to this script's parent's parent; --list also prints every name found)
Exit status: 0 when every name is documented, 1 otherwise (the missing names are printed
with the header and line that declare them), 2 on a usage error.
"""

import pathlib
import re
import sys

KEYWORDS = {
    "alignas", "auto", "bool", "char", "class", "const", "constexpr", "decltype", "default",
    "delete", "double", "enum", "explicit", "extern", "final", "float", "friend", "inline",
    "int", "long", "noexcept", "override", "requires", "return", "short", "signed", "sizeof",
    "static", "struct", "template", "typename", "unsigned", "virtual", "void", "volatile",
    "operator", "using", "namespace", "concept", "nodiscard", "maybe_unused", "co_await",
}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip_code(text):
    """Blanks comments, string and character literals, and preprocessor lines, keeping
    line breaks so positions still map to line numbers. Returns (code, macros)."""
    out = []
    macros = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            end = i
            while True:  # a directive continues over backslash-newlines
                nl = text.find("\n", end)
                if nl == -1:
                    nl = n
                if nl > 0 and text[nl - 1] == "\\":
                    end = nl + 1
                    continue
                break
            directive = text[i:nl]
            m = re.match(r"#\s*define\s+(TASKMAP_[A-Z0-9_]+)", directive)
            if m and "DETAIL" not in m.group(1):
                macros.append((m.group(1), text.count("\n", 0, i) + 1))
            out.append(re.sub(r"[^\n]", " ", directive))
            i = nl
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            nl = text.find("\n", i)
            nl = n if nl == -1 else nl
            out.append(" " * (nl - i))
            i = nl
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c in "\"'":
            # A raw string or a digit separator (1'000) is not a literal start here.
            if c == "'" and i > 0 and text[i - 1].isalnum():
                out.append(c)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), macros


def strip_templates(statement):
    """Removes `template <...>` heads and `requires` clauses from a declaration."""
    while True:
        m = re.search(r"\btemplate\s*<", statement)
        if not m:
            break
        depth, j = 1, m.end()
        while j < len(statement) and depth:
            depth += {"<": 1, ">": -1}.get(statement[j], 0)
            j += 1
        statement = statement[: m.start()] + " " + statement[j:]
    return statement


def strip_requires(statement):
    """Removes a leading requires-clause: `requires (expr)` or `requires A<T> && B<T>`."""
    s = statement.lstrip()
    while s.startswith("requires") and not IDENT.match(s[len("requires"):]):
        s = s[len("requires"):].lstrip()
        while True:
            if s.startswith("("):
                depth, j = 0, 0
                for j, ch in enumerate(s):
                    depth += {"(": 1, ")": -1}.get(ch, 0)
                    if depth == 0:
                        break
                s = s[j + 1 :].lstrip()
            else:
                m = re.match(r"[A-Za-z_:][A-Za-z0-9_:]*\s*(<[^;{()]*?>)?", s)
                if not m:
                    break
                s = s[m.end() :].lstrip()
            if s.startswith("&&") or s.startswith("||"):
                s = s[2:].lstrip()
                continue
            break
    return s


def drop_attributes(statement):
    return re.sub(r"\[\[.*?\]\]", " ", statement, flags=re.S)


def function_name(statement):
    """The unqualified name declared by a function declaration, or None."""
    s = strip_requires(drop_attributes(strip_templates(statement)))
    depth = 0
    for k, ch in enumerate(s):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "(" and depth == 0:
            head = s[:k].rstrip()
            m = re.search(r"(~?[A-Za-z_][A-Za-z0-9_]*)\s*$", head)
            if not m:
                return None
            name = m.group(1)
            before = head[: m.start()].rstrip()
            if before.endswith("::") or before.endswith("operator"):
                return None  # an out-of-class definition, or an operator
            return name
    return None


class Scanner:
    """Collects the public names one header declares."""

    def __init__(self, path):
        self.path = path
        self.code = ""
        self.names = []  # (name, line)

    def add(self, name, pos):
        if name and name not in KEYWORDS and not name.startswith("~"):
            found = re.compile(r"\b%s\b" % re.escape(name)).search(self.code, pos)
            at = found.start() if found else pos
            self.names.append((name, self.code.count("\n", 0, at) + 1))

    def scan(self):
        text = self.path.read_text(encoding="utf-8")
        self.code, macros = strip_code(text)
        for name, line in macros:
            self.names.append((name, line))
        # Scope stack entries: (kind, name, access) where kind is "ns", "detail", "class",
        # "enum" or "block"; access is the current access of a class scope.
        stack = [("file", "", None)]
        start = 0
        code = self.code
        paren = 0
        i = 0
        while i < len(code):
            ch = code[i]
            if ch == "(":
                paren += 1
            elif ch == ")":
                paren -= 1
            elif paren == 0 and ch in "{};":
                statement = code[start:i]
                stmt_pos = start
                if ch == "{":
                    stack.append(self.open_scope(statement, stmt_pos, stack))
                elif ch == "}":
                    if stack[-1][0] == "enum":
                        self.enumerators(statement, stmt_pos, stack)
                    if len(stack) > 1:
                        stack.pop()
                else:
                    self.declaration(statement, stmt_pos, stack)
                start = i + 1
            elif paren == 0 and ch == ":" and stack[-1][0] == "class":
                label = code[start:i].strip()
                if label in ("public", "private", "protected") and code[i + 1 : i + 2] != ":":
                    kind, name, _ = stack[-1]
                    stack[-1] = (kind, name, label)
                    start = i + 1
            i += 1
        return self.names

    def visible(self, stack):
        """True when declarations at the top of `stack` are public API."""
        in_taskmap = False
        for kind, name, access in stack:
            if kind == "detail" or kind == "block" or kind == "enum":
                return False
            if kind == "ns" and name == "taskmap":
                in_taskmap = True
            if kind == "class" and access != "public":
                return False
        return in_taskmap

    def open_scope(self, statement, pos, stack):
        s = drop_attributes(strip_templates(statement)).strip()
        m = re.match(r"(?:inline\s+)?namespace\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*$", s)
        if m:
            names = (m.group(1) or "").split("::")
            if "detail" in names:
                return ("detail", "detail", None)
            return ("ns", names[0] if names[0] else "", None)
        m = re.match(r"enum\s+(?:class|struct)?\s*([A-Za-z_][A-Za-z0-9_]*)", s)
        if m and "(" not in s:
            if self.visible(stack):
                self.add(m.group(1), pos)
            return ("enum", m.group(1), None)
        m = re.match(r"(class|struct)\s+([A-Za-z_][A-Za-z0-9_:]*)\s*(<[^{]*>)?\s*(final)?\s*(:[^{]*)?$", s)
        if m:
            name = m.group(2)
            if "::" in name or m.group(3):  # a specialisation or an out-of-class definition
                return ("block", name, None)
            if self.visible(stack):
                self.add(name, pos)
            return ("class", name, "public" if m.group(1) == "struct" else "private")
        # Anything else opening a brace: a function body, an initialiser, a lambda.
        if stack[-1][0] == "class" and self.visible(stack):
            self.member(statement, pos, stack)
        elif self.visible(stack):
            self.declaration(statement, pos, stack)
        return ("block", "", None)

    def enumerators(self, statement, pos, stack):
        if not self.visible(stack[:-1]):
            return
        offset = 0
        for part in statement.split(","):
            m = IDENT.search(part)
            if m:
                self.add(m.group(0), pos + offset + m.start())
            offset += len(part) + 1

    def declaration(self, statement, pos, stack):
        if not self.visible(stack):
            return
        if stack[-1][0] == "class":
            self.member(statement, pos, stack)
            return
        s = drop_attributes(strip_templates(statement)).strip()
        if not s:
            return
        m = re.match(r"(class|struct)\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", s)
        if m:
            self.add(m.group(2), pos)
            return
        m = re.match(r"concept\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", s)
        if m:
            self.add(m.group(1), pos)
            return
        m = re.match(r"using\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", s)
        if m:
            self.add(m.group(1), pos)
            return
        if s.startswith("using") or s.startswith("static_assert") or s.startswith("friend"):
            return
        name = function_name(s)
        if name:
            self.add(name, pos)
            return
        m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(=|$)", s)
        if m and re.match(r"(inline\s+)?(constexpr|const|extern)", s):
            self.add(m.group(1), pos)

    def member(self, statement, pos, stack):
        s = drop_attributes(strip_templates(statement)).strip()
        if not s or s.startswith("friend") or s.startswith("static_assert"):
            return
        m = re.match(r"using\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", s)
        if m:
            self.add(m.group(1), pos)
            return
        if s.startswith("using"):
            return  # inherited constructors
        class_name = stack[-1][1]
        pointer = re.match(r"[^(]*\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", s)
        if pointer:  # a function-pointer member
            self.add(pointer.group(1), pos)
            return
        if "(" in s.split("=")[0]:
            name = function_name(s)
            if name or re.search(r"\boperator\b", s):
                if name and name != class_name:
                    self.add(name, pos)
                return
            # No declarator before a parenthesis: a data member such as
            # `std::function<void()> callback;`.
        head = re.split(r"[={]", s, maxsplit=1)[0].strip()
        m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*$", head)
        if m:
            self.add(m.group(1), pos)


def documented_code(docs):
    """All code text of the pages: fenced blocks and inline code spans."""
    fence = re.compile(r"^```[^\n]*\n(.*?)^```", flags=re.S | re.M)
    span = re.compile(r"``(.+?)``|`([^`\n]+)`")
    pieces = []
    for page in sorted(docs.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        pieces.extend(fence.findall(text))
        pieces.extend(a or b for a, b in span.findall(fence.sub("", text)))
    return "\n".join(pieces)


def main(argv):
    args = argv[1:]
    list_all = "--list" in args
    args = [a for a in args if a != "--list"]
    if len(args) > 1:
        print("usage: check-docs-names.py [--list] [repository root]", file=sys.stderr)
        return 2
    root = pathlib.Path(args[0]) if args else pathlib.Path(__file__).resolve().parent.parent
    include = root / "include" / "taskmap"
    docs = root / "docs"
    if not include.is_dir() or not docs.is_dir():
        print(f"check-docs-names: no include/taskmap or docs/ under {root}", file=sys.stderr)
        return 2
    declared = {}
    for header in sorted(include.rglob("*.hpp")):
        rel = header.relative_to(root)
        if "detail" in rel.parts:
            continue
        for name, line in Scanner(header).scan():
            declared.setdefault(name, f"{rel}:{line}")
    if list_all:
        for name, where in sorted(declared.items(), key=lambda item: item[1]):
            print(f"{where}: {name}")
    code = documented_code(docs)
    words = set(IDENT.findall(code))
    missing = sorted((where, name) for name, where in declared.items() if name not in words)
    for where, name in missing:
        print(f"{where}: {name} is not mentioned as code in docs/*.md")
    print(f"check-docs-names: {len(declared)} public names, {len(missing)} undocumented")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
