"""Presets (one TOML file each, with any CSV they read) and the workbook style.

This folder ships inside the package as ``stepviz.templates`` (see pyproject.toml) and is
read with importlib.resources, so an installed stepviz finds it outside the repository."""
