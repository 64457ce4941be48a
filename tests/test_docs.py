"""The README tells the truth: its step table is the engine's, its commands exist."""
import re
from pathlib import Path

import stepviz

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def steps_table(network) -> str:
    rows = ["| step | sheet (epoch 1) | computes |", "|---|---|---|"]
    for s in network.steps():
        rows.append(f"| {s.number} | `1.{s.number:02d} {s.title}` | "
                    + "; ".join(f"`{c.words()}`" for c in s.computes) + " |")
    return "\n".join(rows)


def test_readme_step_table_is_the_engines():
    net = stepviz.load_config("seed-mlp").network
    table = steps_table(net)
    assert table in README, "README step table is stale; paste:\n" + table


def test_readme_pictures_exist():
    for name in re.findall(r"\]\((docs/[^)]+\.png)\)", README):
        assert (Path(__file__).parent.parent / name).is_file(), name
    for picture in ("step-3", "step-11", "focus-moved", "exercise", "zh-step-3", "optimizers"):
        assert f"docs/{picture}.png" in README, picture


def test_readme_lists_every_dependency():
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    for dep in deps:
        name = re.split(r"[<>=\[ ]", dep)[0]
        assert f"**{name}**" in README, f"README does not say why {name} is a dependency"


def test_readme_quotes_the_real_formulas(seed_book):
    from book import step_sheets

    sheets = {x.title: x for x in step_sheets(seed_book)}
    for title, name, updated in (("1.03 hidden input", "hidden_layer_input", False),
                                 ("1.11 update weights", "wout", True),
                                 ("1.04 hidden activations", "hiddenlayer_activations", False)):
        s = sheets[title]
        focus = s.block(name, updated=updated, linked=False).top_left  # the default focus (1, 1)
        assert f"`{s.formulas[focus]}`" in README, (title, s.formulas[focus])

def test_readme_has_a_row_for_every_preset():
    for name in stepviz.presets():
        assert f"| `{name}`" in README, name


def test_readme_python_examples_run_and_print_what_the_readme_says(tmp_path, monkeypatch):
    import doctest

    monkeypatch.chdir(tmp_path)
    (tmp_path / "output").mkdir()
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    examples = [b for b in blocks if ">>>" in b]
    assert len(examples) >= 4
    parser, globs = doctest.DocTestParser(), {}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(examples):
        test = parser.get_doctest(block, globs, f"README example {i + 1}", "README.md", 0)
        runner.run(test, clear_globs=False)
        globs = test.globs  # later examples use earlier names
    assert runner.summarize(verbose=False).failed == 0


def test_readme_show_example_is_the_real_output(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "stepviz", "run", "-q"], cwd=tmp_path, check=True,
                   capture_output=True)
    shown = subprocess.run([sys.executable, "-m", "stepviz", "show", "output/seed-mlp.xlsx", "--step", "8"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "$ stepviz show output/seed-mlp.xlsx --step 8\n" + shown in README


def test_readme_shows_the_real_output_of_the_default_run(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "stepviz", "run"], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    assert "```\n" + out + "```" in README


def test_readme_config_example_is_a_valid_config():
    import tomllib

    block = re.search(r"```toml\n(\[data\]\nX = .*?)```", README, flags=re.S).group(1)
    config = stepviz.load_config(tomllib.loads(block))
    assert config.network.hidden == (3,) and config.history_every == 5 and config.epochs == 5000


def test_installed_layout_finds_presets_and_their_csv_through_importlib_resources(tmp_path):
    """As a wheel installs it: templates/ inside the package as stepviz.templates."""
    import shutil
    import subprocess
    import sys
    import tomllib

    root = Path(__file__).parent.parent
    setup = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setup["package-dir"]["stepviz.templates"] == "templates"
    assert {"*.toml", "*.csv"} <= set(setup["package-data"]["stepviz.templates"])
    site = tmp_path / "site"
    shutil.copytree(root / "stepviz", site / "stepviz", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "templates", site / "stepviz" / "templates", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import stepviz, stepviz.config as c; p = c.templates(); assert 'site' in str(p), p; "
            "r = stepviz.train('virus', epochs=2); print(r.config.x_labels[0])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loss_of_smell"
