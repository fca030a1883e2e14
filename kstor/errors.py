"""The one exception type that reaches the user as a single line (never a traceback)."""


class KstorError(Exception):
    """A user-facing error: its message is printed as one line and the CLI exits non-zero."""

    exit_code: int = 1
