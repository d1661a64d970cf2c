"""The terminal's progress bar and closing summary table for long commands (backfill, reprocess, reclassify,
train, `python -m bench`): rich, counts done of the total, a percentage and the time left."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

#: Moves the bar: `advance(n)` adds n done; `advance(0, total=t)` changes the total once it is known.
Advance = Callable[..., None]


def progress_columns(unit: str) -> tuple[object, ...]:
    """`<description> ━━━━━━ 3/7 <unit>, 43%, time left 0:00:12`."""
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{unit}, {{task.percentage:>3.0f}}%, time left"),
        TimeRemainingColumn(),
    )


@contextmanager
def progress_bar(description: str, total: int, unit: str, console: Console | None = None) -> Iterator[Advance]:
    """A bar kept on screen at the end (its last line is the final count), moved by the yielded `advance`.

    No stdout/stderr redirection: Prefect pickles what a task sees to send it to a Dask worker, and rich's
    stand-in for sys.stdout holds a lock that cannot be pickled."""
    with Progress(
        *progress_columns(unit),  # type: ignore[arg-type]
        # A console of its own, not rich's process-wide one: it looks at the terminal (and TTY_COMPATIBLE,
        # COLUMNS) now, when the command runs.
        console=console or Console(),
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as progress:
        bar = progress.add_task(description, total=total)

        def advance(done: int = 1, *, total: int | None = None) -> None:
            if total is not None:
                progress.update(bar, total=total)
            if done:
                progress.advance(bar, done)

        yield advance
        task = progress.tasks[0]
        if task.total is not None and task.completed < task.total:
            progress.update(bar, completed=task.total)  # the work is done even when a step was not counted


def print_summary(title: str, rows: Sequence[tuple[str, object]], console: Console | None = None) -> None:
    """A two-column table at the end of a command: what, and where it went (or how many)."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, str(value))
    if console is None:
        console = Console()
        if not console.is_terminal:  # a pipe or a log file: keep paths whole on one line
            console.width = max(console.width, 200)
    console.print(table)
