"""The documentation tells the truth: every command and example of the README and the docs pages
runs and prints what the page says (tests/doccheck.py), its tables are the engine's, its pictures
are the ones docs/render.py makes (tests/test_pictures.py)."""
import re
import sys
from pathlib import Path

import pytest

import stepviz

sys.path.insert(0, str(Path(__file__).parent))
import doccheck  # noqa: E402

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def everything() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def repository_state():
    """What a documented command could overwrite or leave behind in the repository."""
    watched = [ROOT, ROOT / "output", ROOT / "docs", ROOT / "examples", ROOT / "templates"]
    return {p: p.stat().st_mtime_ns for folder in watched if folder.is_dir() for p in folder.iterdir()
            if p.name not in {"__pycache__", ".pytest_cache", ".hypothesis"}}


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory):
    return doccheck.shell_bin(tmp_path_factory.mktemp("bin"))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_command_and_example_prints_what_the_page_says(page, tmp_path, bin_dir):
    before = repository_state()
    ran = doccheck.run_page(page, tmp_path, bin_dir, ROOT)
    assert not ran.failures, "\n\n".join(ran.failures)
    assert repository_state() == before, "a documented command wrote into the repository"


def test_the_pages_document_something_runnable():
    """Every page but none holds commands or examples that run; and no transcript hides outside a
    block the runner runs (a ``$ stepviz`` line in a ```text block would never be checked)."""
    for page in PAGES:
        runnable = [b for b in doccheck.blocks(page.read_text(encoding="utf-8"))
                    if b.runs and not b.file and (b.lang in doccheck.SHELLS or b.lang == "python")]
        assert runnable, f"{page.name} runs nothing"
        for block in doccheck.blocks(page.read_text(encoding="utf-8")):
            if block.lang not in doccheck.SHELLS and block.lang != "python":
                assert not re.search(r"^\$ ", block.text, flags=re.M), f"{page.name}:{block.line}: an unrun transcript"
            if not block.runs:
                assert "stepviz run" not in block.text or "pip install" in block.text, \
                    f"{page.name}:{block.line}: a no-run block that is not the installation"


def test_readme_is_for_the_first_hour():
    readme = text("README.md")
    assert len(readme.splitlines()) <= 300
    # .ci/run does exactly these: they stay in the README as written
    assert ("python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/stepviz run\n"
            ".venv/bin/python -m pytest\n") in readme
    for page in ("docs/learner.md", "docs/teacher.md", "docs/reference.md", "docs/internals.md"):
        assert f"]({page}" in readme, f"the README does not lead to {page}"


def test_links_between_pages_lead_somewhere():
    def anchors(page: Path) -> set[str]:
        body = page.read_text(encoding="utf-8")
        ids = set(re.findall(r'<a id="([^"]+)">', body))
        for heading in re.findall(r"^#+ (.+)$", body, flags=re.M):
            slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            ids |= {slug, slug + "-1"}
        return ids

    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file, _, anchor = target.partition("#")
            linked = (page.parent / file).resolve() if file else page
            assert linked.exists(), f"{page.name}: {target} does not exist"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors(linked), f"{page.name}: no #{anchor} in {linked.name}"


def test_runner_reports_a_wrong_output_with_its_place_and_a_diff(tmp_path, bin_dir):
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```sh\n$ echo one\none\n$ echo two; echo three\ntwo\nthree\n$ echo four\nfive\n```\n\n"
                    "```sh\necho a\n```\n\n```text\na\n```\n\n```sh\nexit 3\n```\n\n"
                    "```python\n>>> 1 + 1\n3\n```\n\n```sh\n$ echo timing 0.123 s; echo end\n...\nend\n```\n")
    work = tmp_path / "work"
    work.mkdir()
    failures = doccheck.run_page(page, work, bin_dir, tmp_path).failures
    assert len(failures) == 3, failures
    assert failures[0].startswith("page.md:9: $ echo four") and "-five" in failures[0] and "+four" in failures[0]
    assert failures[1].startswith("page.md:22: exit 3 exited 3")
    assert "line 26" in failures[2] and "Expected:\n    3\nGot:\n    2" in failures[2]


def test_runner_matches_ellipsis_lines_and_nothing_else():
    assert doccheck.matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert doccheck.matches(["a", "...", "d"], ["a", "d"])
    assert not doccheck.matches(["a", "...", "d"], ["a", "b", "c"])
    assert not doccheck.matches(["a", "b"], ["a", "b", "c"])
    assert doccheck.compare("x", "a  \nb\n\n", "a\nb") is None


def steps_table(network) -> str:
    rows = ["| step | sheet (epoch 1) | computes |", "|---|---|---|"]
    for s in network.steps():
        rows.append(f"| {s.number} | `1.{s.number:02d} {s.title}` | "
                    + "; ".join(f"`{c.words()}`" for c in s.computes) + " |")
    return "\n".join(rows)


def test_step_table_is_the_engines():
    net = stepviz.load_config("seed-mlp").network
    table = steps_table(net)
    assert table in text("docs/learner.md"), "docs/learner.md's step table is stale; paste:\n" + table


def test_pictures_exist_and_each_is_rendered():
    sys.path.insert(0, str(ROOT / "docs"))
    import render

    shown = set()
    for page in PAGES:
        for name in re.findall(r"\]\(([^)]+\.png)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / name).is_file(), f"{page.name}: {name}"
            shown.add((page.parent / name).resolve().name)
    committed = {p.name for p in (ROOT / "docs").glob("*.png")}
    assert shown == committed, f"shown but not committed, or committed but shown nowhere: {shown ^ committed}"
    assert {f"{name}.png" for name in render.PICTURES} == committed, "docs/render.py does not render every picture"
    for picture in ("step-3", "step-11", "focus-moved", "exercise", "zh-step-3", "optimizers", "feedback"):
        assert f"{picture}.png" in committed, picture


def test_dependencies_are_explained():
    import tomllib

    project = tomllib.loads(text("pyproject.toml"))["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    internals = text("docs/internals.md")
    for dep in deps:
        name = re.split(r"[<>=\[ ;]", dep)[0]
        assert f"**{name}**" in internals, f"docs/internals.md does not say why {name} is a dependency"


def test_documented_formulas_are_the_real_ones(seed_book):
    from book import step_sheets

    docs = everything()
    sheets = {x.title: x for x in step_sheets(seed_book)}
    for title, name, updated in (("1.03 hidden input", "hidden_layer_input", False),
                                 ("1.11 update weights", "wout", True),
                                 ("1.04 hidden activations", "hiddenlayer_activations", False)):
        s = sheets[title]
        focus = s.block(name, updated=updated, linked=False).top_left  # the default focus (1, 1)
        assert f"`{s.formulas[focus]}`" in docs, (title, s.formulas[focus])


def test_every_preset_has_a_row():
    learner = text("docs/learner.md")
    for name in stepviz.presets():
        assert f"| `{name}`" in learner, name


def test_reference_config_example_is_a_valid_config():
    import tomllib

    block = re.search(r"```toml\n(\[data\]\nX = .*?)```", text("docs/reference.md"), flags=re.S).group(1)
    config = stepviz.load_config(tomllib.loads(block))
    assert config.network.hidden == (3,) and config.history_every == 5 and config.epochs == 5000


def test_installed_layout_finds_presets_and_their_csv_through_importlib_resources(tmp_path):
    """As a wheel installs it: templates/ inside the package as stepviz.templates."""
    import shutil
    import subprocess
    import tomllib

    setup = tomllib.loads(text("pyproject.toml"))["tool"]["setuptools"]
    assert setup["package-dir"]["stepviz.templates"] == "templates"
    assert {"*.toml", "*.csv"} <= set(setup["package-data"]["stepviz.templates"])
    site = tmp_path / "site"
    shutil.copytree(ROOT / "stepviz", site / "stepviz", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", site / "stepviz" / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import stepviz, stepviz.config as c; p = c.templates(); assert 'site' in str(p), p; "
            "r = stepviz.train('virus', epochs=2); print(r.config.x_labels[0])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loss_of_smell"
