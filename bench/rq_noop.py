"""The job bench/workers.py measures: does nothing, so only RQ's own cost per job remains."""


def noop() -> None:
    return None
