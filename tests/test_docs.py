"""The docs stay inside the repository and show only pictures the browser tests take (``make screenshots``)."""

from __future__ import annotations

import re
from pathlib import Path

from browser import DOC_SCREENSHOTS

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
IMAGES = REPO_ROOT / "docs" / "images"
BROWSER_TESTS = [
    REPO_ROOT / "tests" / "server" / "dashboard" / "test_browser.py",
    REPO_ROOT / "tests" / "client" / "test_report.py",
    REPO_ROOT / "tests" / "client" / "test_solar_report.py",
]
MARKDOWN_TARGET = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def targets(text: str) -> tuple[list[str], list[str]]:
    """The images and the other links of Markdown ``text``; web addresses and links within the page left out."""
    images, links = [], []
    for bang, target in MARKDOWN_TARGET.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        (images if bang else links).append(target)
    return images, links


def test_targets_finds_images_and_relative_links_only():
    text = "![a](images/x.png) [b](../shared/DESIGN.md) [c](operator.md#flags) [d](https://flower.ai) [e](#top)"
    assert targets(text) == (["images/x.png"], ["../shared/DESIGN.md", "operator.md#flags"])


def slugs(markdown: Path) -> set[str]:
    """The anchors of a Markdown file's headings, as GitHub makes them."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_slugs_are_githubs():
    assert slugs(REPO_ROOT / "docs" / "site-toml.md") >= {"policy", "turbines", "statuscategories"}


def test_every_picture_in_the_docs_is_a_screenshot_the_browser_tests_take():
    shown = set()
    for doc in DOCS:
        for image in targets(doc.read_text(encoding="utf-8"))[0]:
            path = (doc.parent / image).resolve()
            assert path.parent == IMAGES and path.name in DOC_SCREENSHOTS, (
                f"{doc.name}: {image} is no test's screenshot"
            )
            assert path.is_file(), f"{doc.name}: {image} missing; run make screenshots"
            assert path.stat().st_size < 400_000, f"{image} is {path.stat().st_size} bytes"
            shown.add(path.name)
    readme_images = targets((REPO_ROOT / "README.md").read_text(encoding="utf-8"))[0]
    assert len(readme_images) >= 2 and shown


def test_every_screenshot_the_docs_may_show_is_taken_by_a_browser_test():
    calls = "".join(path.read_text(encoding="utf-8") for path in BROWSER_TESTS)
    untaken = [name for name in sorted(DOC_SCREENSHOTS) if not re.search(rf'docs_screenshot\([^)]*"{name}"\)', calls)]
    assert untaken == []
    assert sorted(path.name for path in IMAGES.glob("*")) == sorted(DOC_SCREENSHOTS), "stale or missing files"


def test_every_link_of_the_docs_is_a_file_of_the_repository():
    for doc in DOCS:
        for link in targets(doc.read_text(encoding="utf-8"))[1]:
            file, _, anchor = link.partition("#")
            path = (doc.parent / file).resolve()
            assert path.is_relative_to(REPO_ROOT), f"{doc.name}: {link} leaves the repository"
            assert path.exists(), f"{doc.name}: {link} does not exist"
            assert not anchor or anchor in slugs(path), f"{doc.name}: {link} names no heading of {file}"
