"""Run trials in a local process pool or as Ray tasks; the driver saves each record the moment it
arrives, and a rerun skips trials already saved, so an interrupted sweep loses only trials in flight."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import torch
from tqdm import tqdm

from .claims import Claims, wait_for
from .config import BenchConfig
from .trials import Trial, load_record, save_record, trial_path

Outcomes = Iterator[tuple[Trial, dict | BaseException]]

STOP_S = 5.0
"""How long workers get to exit after an interrupt before they are killed."""
PARENT_POLL_S = 1.0
"""Seconds between a worker's checks that its driver is alive."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: trials in flight were stopped, finished ones kept; ``message`` says so."""

    def __init__(self, kept: int, total: int, out: Path):
        self.kept, self.total, self.out = kept, total, out
        self.message = (
            f"interrupted: kept {kept} finished trials (of {total}) in {out}; "
            "rerun the same command to resume"
        )
        super().__init__(self.message)


def run_trials(
    config: BenchConfig, trials: list[Trial], out: Path, progress: bool = True, desc: str = "trials"
) -> list[dict]:
    """The records of ``trials`` in order, running those not yet saved under ``out``. Trials that
    fail do not stop the others; they are reported together at the end and rerun next time.

    Each trial is claimed (:mod:`.claims`) before it runs, so processes sharing ``out`` split the
    work: trials another live process claimed are skipped, then waited for (and loaded) at the end.
    Ctrl-C stops the workers and raises :class:`Interrupted`, which counts the trials kept."""
    records = {t: r for t in trials if (r := load_record(out, t, t.params(config))) is not None}
    failures = {}
    claims = Claims()
    runs = _ray_runs if config.ray else _pool_runs

    def finished(trial: Trial) -> bool:
        if trial not in records and (record := load_record(out, trial, trial.params(config))) is not None:
            records[trial] = record
            bar.update()
        return trial in records

    def claimed() -> Iterator[Trial]:
        """The trials left, each claimed as it is drawn; those another process holds are skipped."""
        for trial in trials:
            if trial in records or not claims.acquire(trial_path(out, trial)):
                continue
            if finished(trial):  # saved by another process since the first look
                claims.release(trial_path(out, trial))
                continue
            yield trial

    def run(batch: Iterable[Trial]) -> None:
        for trial, outcome in runs(config, batch):
            if isinstance(outcome, BaseException):
                failures[trial.key] = outcome
            else:
                save_record(out, trial, outcome)
                records[trial] = outcome
                bar.update()
            claims.release(trial_path(out, trial))

    with tqdm(total=len(trials), initial=len(records), desc=desc, disable=not progress) as bar:
        try:
            if len(records) < len(trials):
                run(claimed())
            # Trials other processes hold: load each when saved, or run it if released unfinished.
            for trial in [t for t in trials if t not in records and t.key not in failures]:
                if not wait_for(lambda t=trial: finished(t), claims, trial_path(out, trial)):
                    run([trial])
        except KeyboardInterrupt:
            raise Interrupted(len(records), len(trials), out) from None
        finally:
            claims.release_all()
    if failures:
        listing = "\n".join(f"  {key}: {error!r}" for key, error in failures.items())
        raise RuntimeError(
            f"{len(failures)} trial(s) failed; the rest are saved, a rerun retries these:\n{listing}"
        )
    return [records[t] for t in trials]


def _init_worker(threads: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the driver stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker once its driver is gone. A driver stopped by a signal it can catch stops its
    workers itself; one killed outright (SIGKILL, the OOM killer) cannot, and its workers would
    otherwise run their trials to the end as orphans, holding the cores a rerun needs."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def run_trial(config: BenchConfig, trial: Trial) -> dict:
    return trial.run(config)


def _pool_runs(config: BenchConfig, trials: Iterable[Trial]) -> Outcomes:
    """Outcomes as trials finish; ``trials`` is drawn lazily, one more each time a worker is free, so
    that trials are claimed only when they are about to run and other processes can take the rest."""
    # Workers share the cores rather than each starting one torch thread per core.
    threads = max(1, len(os.sched_getaffinity(0)) // config.workers)
    # Spawned, not forked: the driver may have run torch (QLS agent training), and a forked OpenMP can hang.
    pool = ProcessPoolExecutor(
        config.workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(threads,),
    )
    todo, running = iter(trials), {}
    try:
        while True:
            while len(running) < config.workers and (trial := next(todo, None)) is not None:
                running[pool.submit(run_trial, config, trial)] = trial
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.exception() or future.result()
    except BaseException:
        # Interrupted (or the consumer stopped): drop pending trials and stop running ones now,
        # rather than waiting for them to finish.
        _stop_pool(pool)
        raise
    pool.shutdown()


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    processes = list((pool._processes or {}).values())  # no public handle on the workers
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


def _ray_runs(config: BenchConfig, trials: Iterable[Trial]) -> Outcomes:
    """Outcomes as trials finish; every trial is submitted (and so claimed) at the start, since a
    cluster may run more at once than ``workers`` says."""
    import ray  # optional: only --ray needs it

    started = not ray.is_initialized()
    if started and config.ray == "local":
        ray.init(num_cpus=config.workers, include_dashboard=False)
    elif started:
        ray.init(address=config.ray)
    waiting = []
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
    except BaseException:
        for ref in waiting:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
