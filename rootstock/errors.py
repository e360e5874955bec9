"""One error hierarchy for every mistake a user can make and fix.

Each error carries `problems`: (file, field, reason) triples, so the command line prints every
one of them the same way, `FILE: field: reason`, and exits non-zero without a traceback.
Anything that is not a RootstockError is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    """What is wrong (`reason`), and where: a file or URL and a field, record or line in it."""

    file: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.field, self.reason) if part)


class RootstockError(Exception):
    """Base class: a message, or problems (each `FILE: field: reason`), and an optional hint."""

    exit_code = 2

    def __init__(self, message: str = "", *, problems: list[Problem | tuple] | None = None, hint: str | None = None):
        self.problems = [Problem(*p) for p in problems or []]
        self.message, self.hint = message, hint
        super().__init__("\n".join(self.lines()))

    def __reduce__(self):  # picklable across Beam workers, whatever the subclass's signature
        return rebuild, (type(self).__name__, self.message, [tuple(p) for p in self.problems], self.hint)

    def lines(self) -> list[str]:
        """What the command line prints: the message, one line per problem, the hint."""
        lines = [self.message] if self.message else []
        lines += [("  " if self.message else "") + str(p) for p in self.problems]
        return lines + ([f"hint: {self.hint}"] if self.hint else [])


def rebuild(name: str, message: str, problems: list[tuple], hint: str | None = None) -> RootstockError:
    """An error of class NAME (of this module) from its parts, e.g. read back from a worker's record."""
    cls = globals().get(name)
    if not (isinstance(cls, type) and issubclass(cls, RootstockError)):
        cls = RootstockError
    error = Exception.__new__(cls)
    RootstockError.__init__(error, message, problems=problems, hint=hint)
    return error


class ConfigError(RootstockError):
    """A run config, mix spec, thresholds file or command-line option that cannot be used."""


class CatalogError(ConfigError):
    """Invalid catalogue entries; every problem at once, each with its file and field."""

    def __init__(self, problems: list[Problem | tuple], message: str = "invalid catalogue", *, hint: str | None = None):
        super().__init__(message, problems=problems, hint=hint)


class MixSpecError(ConfigError):
    """A mix spec that cannot be read or planned; the message names the file and the field."""


class UnreachableMixError(MixSpecError):
    """The spec asks for more epochs of some unit than its cap allows."""


class InputError(RootstockError):
    """A record, file or stream of a source that cannot be read (under `on_error: fail`)."""


class ReleaseError(RootstockError):
    """A release (or mix) that is missing, incomplete, tampered with, or in the way."""


class ReleaseExistsError(ReleaseError):
    """The output exists and may not be replaced."""


class ManifestError(ReleaseError):
    """A manifest that breaks its schema."""


class TokenizerError(RootstockError):
    """A tokenizer file that cannot be loaded, or training that cannot succeed as asked."""


class TokenizerTrainError(TokenizerError):
    """Tokenizer training refused or failed; the message says which option to change."""


class ResumeError(ReleaseError):
    """--resume cannot continue the interrupted run: its config, inputs or code changed, or it runs."""


class Interrupted(RootstockError):
    """The run was stopped (Ctrl-C); its completed work is kept for `--resume`."""

    exit_code = 130


class PushError(RootstockError):
    """A push to the Hub that could not happen or did not finish; the message says what to do."""

    exit_code = 1
