"""Shared fixtures: small suites built once per session, and the real data folder."""

from __future__ import annotations

import pytest
import torch

from mtl_gym.data import default_data_dir, load_suite
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


@pytest.fixture(scope="session")
def data_dir():
    found = default_data_dir()
    if found is None or not (found / "fsmtl16").is_dir():
        pytest.fail("real data is expected in ../shared/data (or $MTL_GYM_DATA); CI has it there")
    return found
