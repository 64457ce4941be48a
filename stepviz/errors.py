"""The errors stepviz reports to users. No imports: the CLI loads this before anything heavy."""


class StepvizError(Exception):
    """Base of the errors stepviz reports to users (the CLI prints them on one line)."""


class ConfigError(StepvizError, ValueError):
    """A configuration, preset or data file is invalid."""


class ArgumentError(StepvizError, TypeError):
    """A function of stepviz's API was given an argument of a type it does not take."""


def expect(ok: bool, function: str, what: str, value) -> None:
    """Raise ArgumentError unless ``ok``: ``write_workbook: expected a Run … as run, got NoneType``."""
    if not ok:
        raise ArgumentError(f"{function}: expected {what}, got {type(value).__name__}")


def is_path(value) -> bool:
    """A file name the readers and writers take: text or a path object (os.PathLike)."""
    import os

    return isinstance(value, (str, os.PathLike))
