"""The one exception a user ever sees.

Every user mistake (a file that is not an image, a CSV with no dates, a run folder that was
damaged) raises `GenlibError` with a sentence that says what is wrong and what to do. Pages show
it with `st.error`; the command line prints `error: …` and exits with code 2.
"""


class GenlibError(Exception):
    """A problem the user can fix; the message says how.

    `kind` lets a program react without reading the words: "error" in general; a failed training
    reports "nan" (the loss diverged) or "oom" (out of memory) in its state's `error_kind`.
    """

    kind = "error"


class DataError(GenlibError):
    """The data given cannot be used as it is."""


class RunError(GenlibError):
    """A run folder is missing, damaged or not genlib's."""


class TrainingError(GenlibError):
    """Training stopped for a reason the user can act on; `kind` says which ("nan", "oom", …)."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind
