"""The benchmark harness behind ``mtl-gym bench``: every method x learning rate x seed on one suite
and model at one budget, tuned on dev, reported on test.

- ``config``: :class:`~mtl_gym.bench.config.BenchConfig` and its command-line flags;
- ``trials``: one trial (a :func:`benchmarks.methods.run_method` call) and its file in ``DIR/trials``;
- ``execute``: trials in a local process pool or as Ray tasks, skipping those already on disk;
- ``tables``, ``ranking``, ``plots``: the reports;
- ``bench``: :func:`~mtl_gym.bench.bench.run_bench`, all of the above in order.

This module imports nothing, so that ``mtl-gym``'s parser can read the flags from ``config``
without loading the methods.
"""
