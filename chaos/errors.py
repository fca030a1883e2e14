"""Errors chaos raises; all reach the user as one line (they are KstorErrors)."""

from __future__ import annotations

from kstor.errors import KstorError


class GuardrailError(KstorError):
    """The context or namespace is not allowed for chaos; nothing was touched."""

    exit_code = 3


class ConfirmationRefused(KstorError):
    """No --yes and no terminal to ask on, or the user said no."""

    exit_code = 4


class ActionError(KstorError):
    """The action could not be planned or carried out (target missing, API refused...)."""


class DrillFormatError(KstorError):
    """A drill file is malformed: message is `file:line: what is wrong`."""
