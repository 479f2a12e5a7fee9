"""docs/reliability.md resolves every row id the tests cite, and names only tests that exist.

Ids are read where people write them: test function names (`test_o6_...`, `test_o11_o12_...`),
docstrings and comments ("rows N5-N9", "# --- X2: ..."). Ranges count every id in them.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
LETTERS = "ONRXSDHTA"  # the sections' letters (outbound, reconcile, notifications, ...)
# "O3", or a range "O1-O7"; not part of a longer word or of a %-escape ("%C3%A9").
CITED = re.compile(rf"(?<![\w%])([{LETTERS}])(\d{{1,2}})(?:-\1(\d{{1,2}}))?(?!\w)")
NAMED = re.compile(rf"^test_((?:[{LETTERS.lower()}]\d{{1,2}}_)+)")
ROW = re.compile(r"^\| ([A-Z]\d{1,2}) \|(.*)$", re.M)
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def cited_ids(source: str) -> set[str]:
    """The row ids one test module cites in its test names, docstrings and comments."""
    tree = ast.parse(source)
    texts = [
        token.string
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            texts.append(ast.get_docstring(node) or "")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            named = NAMED.match(node.name)
            if named:
                ids |= {part.upper() for part in named.group(1).split("_") if part}
    for text in texts:
        for letter, first, last in CITED.findall(text):
            ids |= {f"{letter}{n}" for n in range(int(first), int(last or first) + 1)}
    return ids


def doc_rows(text: str) -> dict[str, list[tuple[str, str]]]:
    """Each row id of the doc with the (file, test function) pairs its row names."""
    return {rid: TEST_REF.findall(rest) for rid, rest in ROW.findall(text)}


def suite_modules() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
    }


def defined_tests(source: str) -> set[str]:
    return {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def unresolved_ids(modules: dict[str, str], rows: dict) -> list[str]:
    return sorted(
        f"{path}: {rid}"
        for path, source in modules.items()
        for rid in cited_ids(source)
        if rid not in rows
    )


def unproved_rows(modules: dict[str, str], rows: dict) -> list[str]:
    """Rows naming no test, or a test that does not exist."""
    found = [rid for rid, tests in rows.items() if not tests]
    for rid, tests in rows.items():
        for path, name in tests:
            if path not in modules or name not in defined_tests(modules[path]):
                found.append(f"{rid}: {path}::{name}")
    return found


def test_every_id_cited_in_the_tests_has_a_row():
    unresolved = unresolved_ids(suite_modules(), doc_rows(DOC.read_text()))
    assert not unresolved, f"ids with no row in docs/reliability.md: {unresolved}"


def test_every_row_names_tests_that_exist():
    rows = doc_rows(DOC.read_text())
    assert len(rows) >= 36  # O1-O15, R1-R3, N1-N9, X1-X3, A1-A6
    unproved = unproved_rows(suite_modules(), rows)
    assert not unproved, f"docs/reliability.md rows without an existing test: {unproved}"


def test_ids_are_read_from_names_docstrings_comments_and_ranges():
    source = '''"""Rows N5-N7 and X2."""
# --- O14, O15: refused
def test_o11_o12_both(): "and R3"
def test_p95_is_no_row(): ("é", "%C3%A9", "D4 in data is not a citation")
'''
    assert cited_ids(source) == {"N5", "N6", "N7", "X2", "O14", "O15", "O11", "O12", "R3"}


def test_a_missing_row_and_a_missing_test_are_reported():
    modules = {"tests/test_x.py": "def test_o1_done(): pass\ndef test_o2_more(): pass\n"}
    text = (
        "| O1 | 200 | ok | `tests/test_x.py::test_o1_done`<br>`tests/test_x.py::test_gone` |\n"
        "| O3 | 400 | rejected | |\n"
    )
    rows = doc_rows(text)
    assert unresolved_ids(modules, rows) == ["tests/test_x.py: O2"]
    assert unproved_rows(modules, rows) == ["O3", "O1: tests/test_x.py::test_gone"]
