"""Checking stages. Each module has one entry point, ``check``, and returns model.Finding lists
keyed by (document path, block index)."""


class StageError(RuntimeError):
    """The checker itself failed (missing, crashed): reported per stage, never a traceback."""
