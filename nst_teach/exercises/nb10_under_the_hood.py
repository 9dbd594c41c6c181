"""Checkers of notebook 10 (under the hood): reading a run's history, 10.1 evals_to_reach, the
evaluations it takes to reach a loss, and 10.2 time_to_reach, the seconds it takes."""

from __future__ import annotations

import math

from .core import CheckFailed, as_number, call_answer, exercise


def _bumpy_history() -> list[dict[str, float]]:
    """A made-up stylize history: total loss falling with two bumps, as L-BFGS runs do."""
    totals = [100.0, 60.0, 35.0, 41.0, 22.0, 18.0, 19.5, 12.0, 9.0, 8.5]
    return [{"content": 0.4 * t, "style": 600.0 - 5 * t, "tv": 0.0, "total": t} for t in totals]


def _first_at_or_below(history, threshold, key="total"):
    return next((i for i, h in enumerate(history) if h[key] <= threshold), None)


def _reached(got, i: int | None, threshold: float, call: str, never: str) -> float | None:
    """The student's number when the loss reaches threshold at history[i]; None when it never does.

    A number where None belongs (i is None) or None where a number belongs is a CheckFailed;
    never: the end of the message for the first case.
    """
    if i is None:
        if got is not None:
            raise CheckFailed(f"{call} returned {got!r}, but the loss never gets to {threshold:g}"
                              f"{never}")
        return None
    if got is None:
        raise CheckFailed(f"{call} returned None, but the loss gets to {threshold:g} at "
                          f"evaluation {i + 1}.")
    return as_number(got, call)


def _named_mistake(got: float, mistakes: list[tuple[float, str]], said: str) -> None:
    """Raise `said: message` for the first typical mistake whose value got equals."""
    for value, message in mistakes:
        if math.isclose(got, value, rel_tol=1e-9):
            raise CheckFailed(f"{said}: {message}")


@exercise("10.1", "evals_to_reach")
def check_evals_to_reach(fn) -> str:
    """Exercise 10.1: fn(history, t) -> evaluations (from 1) until total loss <= t, or None."""
    history = _bumpy_history()
    n = len(history)
    for threshold in (40.0, 19.0, 150.0, 5.0):
        call = f"evals_to_reach(history, {threshold:g})"
        i = _first_at_or_below(history, threshold)
        never = " in this run: return None then (a number would look like a real count)."
        answer = call_answer(fn, history, threshold, call=call, none_ok=True)
        got = _reached(answer, i, threshold, call, never)
        if got is None or got == i + 1:
            continue
        above = [j for j, h in enumerate(history) if h["total"] > threshold]
        last = max(above) + 1 if threshold < history[0]["total"] else 0
        mistakes = [
            (i, "off by one: that is the index of history; evaluations count from 1, so history[i] "
                "is evaluation i + 1."),
            (i + 2, "one too many: history[i] is evaluation i + 1."),
            (n, f"you returned the run's whole number of evaluations, {n}: count only those until "
                "the loss first reaches the threshold."),
            (history[i]["total"], "you returned the loss itself; return how many evaluations it "
                                  "took."),
            (last + 1, "you counted from the last time the loss was above the threshold: L-BFGS "
                       "can bounce back up; return the FIRST evaluation at or below it."),
        ]
        for key in ("content", "style"):
            j = _first_at_or_below(history, threshold, key)
            mistakes.append(((j + 1) if j is not None else -1,
                             f"you looked at the {key} loss; compare the total loss, "
                             "history[i]['total']."))
        _named_mistake(got, mistakes, f"{call} gave {got:g}")
        raise CheckFailed(f"{call} gave {got:g}, expected {i + 1} (the loss first falls to "
                          f"{history[i]['total']:g} at evaluation {i + 1}).")
    return "evals_to_reach counts function evaluations from 1, the first time the loss gets there."


@exercise("10.2", "time_to_reach")
def check_time_to_reach(fn) -> str:
    """Exercise 10.2: fn(history, stamps, started, t) -> seconds until total loss <= t, or None."""
    history = _bumpy_history()
    started = 1000.0  # time.perf_counter() values are seconds since some arbitrary moment
    stamps = [started + 0.5 + 0.3 * k + 0.01 * k * k for k in range(len(history))]
    for threshold in (40.0, 10.0, 5.0):
        call = f"time_to_reach(history, stamps, started, {threshold:g})"
        i = _first_at_or_below(history, threshold)
        answer = call_answer(fn, history, stamps, started, threshold, call=call, none_ok=True)
        got = _reached(answer, i, threshold, call, ": return None.")
        if got is None or math.isclose(got, stamps[i] - started, rel_tol=1e-9):
            continue
        mistakes = [
            (stamps[i], "you returned the raw time stamp: time.perf_counter() counts from an "
                        "arbitrary moment, subtract the run's start, stamps[i] - started."),
            (stamps[i - 1] - started, "off by one: that is the end of the evaluation BEFORE the "
                                      "one that reached the threshold; stamps[i] belongs to "
                                      "history[i]."),
            (stamps[min(i + 1, len(stamps) - 1)] - started, "off by one: stamps[i] (not "
                                                            "stamps[i + 1]) is the end of "
                                                            "evaluation history[i]."),
            (stamps[-1] - started, "you returned the whole run's time: stop at the first "
                                   "evaluation that reaches the threshold."),
            (float(i + 1), "you returned the number of evaluations; this asks for seconds."),
            (float(i), "you returned an index; this asks for seconds."),
        ]
        _named_mistake(got, mistakes, f"{call} gave {got:.4g}")
        raise CheckFailed(f"{call} gave {got:.4g}, expected {stamps[i] - started:.4g} s "
                          f"(evaluation {i + 1}).")
    return ("time_to_reach measures seconds from the start to the first evaluation that reaches "
            "the loss.")
