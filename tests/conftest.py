"""Shared fixtures: small suites built once per session, and the real data folder."""

from __future__ import annotations

import pytest
import torch

from mtl_gym.data import RawSplit, RawTask, TaskKind, build_suite, default_data_dir, load_suite
from mtl_gym.data.synthetic import DomainSpec

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_suite():
    """Three quick synthetic domains, built once."""
    domains = (
        DomainSpec("alpha", train_size=300, difficulty=0.1, label_noise=0.0),
        DomainSpec("beta", train_size=200, difficulty=0.5, label_noise=0.05),
        DomainSpec("gamma", train_size=80, difficulty=0.3, label_noise=0.0),
    )
    return load_suite("synthetic", domains=domains, dev_size=60, test_size=100)


@pytest.fixture
def float64():
    """Torch's default dtype set to float64 for one test. Tests that compare two computations of the
    same training trajectory (batched against per-run, AdaTask against Adam) use it: in float32 the
    paths' different rounding compounds over the steps by an amount that depends on the CPU's BLAS
    kernels (1.5e-5 on an AMD EPYC, a few 1e-7 on Intel), so a float32 tolerance is either loose
    enough to hide a wrong update or fails on some machine. Models, the batched env's state and the
    feature table follow the default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture(scope="session")
def data_dir():
    found = default_data_dir()
    if found is None or not (found / "fsmtl16").is_dir():
        pytest.fail("real data is expected in ../shared/data (or $MTL_GYM_DATA); CI has it there")
    return found


@pytest.fixture
def tagging_suite():
    """A factory of tiny POS-like tagging suites: three sentences repeated ``copies`` times."""

    def build(copies: int):
        words = [["the", "cat", "sat"], ["a", "dog", "ran", "off"], ["cats", "sit"]] * copies
        tags = [[0, 1, 2], [0, 1, 2, 3], [1, 2]] * copies
        split = RawSplit(words, tags, "memory")
        splits = {"train": split, "dev": split, "test": split}
        return build_suite(
            "tiny-tagging", [RawTask("pos", TaskKind.TAGGING, ["DT", "NN", "VB", "RP"], splits)]
        )

    return build
