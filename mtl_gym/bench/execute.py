"""Run trials in a local process pool or as Ray tasks; the driver saves each record the moment it
arrives, and a rerun skips trials already saved, so an interrupted sweep loses only trials in flight."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch
from tqdm import tqdm

from .config import BenchConfig
from .trials import Trial, load_record, save_record

Outcomes = Iterator[tuple[Trial, dict | BaseException]]


def run_trials(
    config: BenchConfig, trials: list[Trial], out: Path, progress: bool = True, desc: str = "trials"
) -> list[dict]:
    """The records of ``trials`` in order, running those not yet saved under ``out``. Trials that
    fail do not stop the others; they are reported together at the end and rerun next time."""
    records = {t: r for t in trials if (r := load_record(out, t, t.params(config))) is not None}
    pending = [t for t in trials if t not in records]
    failures = {}
    runs = _ray_runs if config.ray else _pool_runs
    with tqdm(total=len(trials), initial=len(records), desc=desc, disable=not progress) as bar:
        for trial, outcome in runs(config, pending) if pending else ():
            if isinstance(outcome, BaseException):
                failures[trial.key] = outcome
            else:
                save_record(out, trial, outcome)
                records[trial] = outcome
            bar.update()
    if failures:
        listing = "\n".join(f"  {key}: {error!r}" for key, error in failures.items())
        raise RuntimeError(
            f"{len(failures)} trial(s) failed; the rest are saved, a rerun retries these:\n{listing}"
        )
    return [records[t] for t in trials]


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def run_trial(config: BenchConfig, trial: Trial) -> dict:
    return trial.run(config)


def _pool_runs(config: BenchConfig, trials: list[Trial]) -> Outcomes:
    # Workers share the cores rather than each starting one torch thread per core.
    threads = max(1, len(os.sched_getaffinity(0)) // config.workers)
    # Spawned, not forked: the driver may have run torch (QLS agent training), and a forked OpenMP can hang.
    pool = ProcessPoolExecutor(
        config.workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_set_threads,
        initargs=(threads,),
    )
    try:
        futures = {pool.submit(run_trial, config, trial): trial for trial in trials}
        for future in as_completed(futures):
            yield futures[future], future.exception() or future.result()
    finally:
        pool.shutdown(cancel_futures=True)


def _ray_runs(config: BenchConfig, trials: list[Trial]) -> Outcomes:
    import ray  # optional: only --ray needs it

    started = not ray.is_initialized()
    if started and config.ray == "local":
        ray.init(num_cpus=config.workers, include_dashboard=False)
    elif started:
        ray.init(address=config.ray)
    try:
        # Each task holds one CPU, and Ray sets OMP_NUM_THREADS=1 in it, so torch runs one thread per trial.
        remote = ray.remote(num_cpus=1)(run_trial)
        refs = {remote.remote(config, trial): trial for trial in trials}
        waiting = list(refs)
        while waiting:
            [done], waiting = ray.wait(waiting, num_returns=1)
            try:
                outcome = ray.get(done)
            except ray.exceptions.RayError as error:
                outcome = error
            yield refs[done], outcome
    finally:
        if started:
            ray.shutdown()
