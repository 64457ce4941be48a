"""The errors stepviz reports to users. No imports: the CLI loads this before anything heavy."""


class StepvizError(Exception):
    """Base of the errors stepviz reports to users (the CLI prints them on one line)."""


class ConfigError(StepvizError, ValueError):
    """A configuration, preset or data file is invalid."""
