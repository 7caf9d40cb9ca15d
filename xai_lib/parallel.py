"""Per-image work sharded over Dask, resumable: one function for every heavy chapter.

A chapter describes its work as a **pure task** (a function importable by name, ``module:function``) and a list
of **shards** (JSON-ready payloads: the system spec, profile, seed, the image indices of the shard and the method
settings). :func:`map_shards` runs the task on every shard and returns the per-shard results (dicts of tidy
:class:`pandas.DataFrame`) in shard order:

* ``cluster="none"``: in this process, one shard after another;
* ``cluster="local:N"``: a ``distributed.LocalCluster`` of ``N`` worker processes (one task at a time each),
  started and closed here;
* ``cluster="tcp://host:8786"`` (any ``scheme://host:port``): the scheduler of a cluster you run (dask-jobqueue
  on SLURM, Kubernetes, ...). Its workers need ``xai_lib`` installed and, to share trained supports and
  datasets, ``XAI_LIB_CACHE`` on a shared filesystem.

The chapter code is the same for all three. Every finished shard is written atomically into the content-keyed
cache (key: the task, its payload with the digest of the model's weights, and the library's source), so a run that is
interrupted (a killed kernel, a lost worker) recomputes only the missing shards when it is started again; Dask
itself retries the tasks of a worker lost during a run. On a worker, each system is loaded once (per worker
process, not per task) on the worker's own device (``device="auto"``: its GPU where it has one), at the
chapter's thread count, and checked to have the chapter's weights (by digest); each task then pins the
chapter's thread count, or ``XAI_LIB_WORKER_THREADS`` (one core per local worker on a small machine);
datasets are read from the worker's content-keyed cache, never shipped through the scheduler.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import settings
from .cache import cache_dir, load_checked, save_checked

PARAM = "cluster"
_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s/:]+(:\d+)?$")
_SOURCE_KEY: str | None = None
_SYSTEMS: dict[str, Any] = {}  # per process: loaded systems by (spec key, profile, seed, device)


@dataclass(frozen=True)
class ClusterSpec:
    kind: str  # "none", "local" or "address"
    workers: int = 0
    address: str = ""


def parse_cluster(value: Any) -> ClusterSpec:
    """``"none"``, ``"local:N"`` or a scheduler address; anything else is a ValueError naming ``cluster``."""
    if value is None or value == "none":
        return ClusterSpec("none")
    if isinstance(value, str) and value.startswith("local:"):
        n = value.split(":", 1)[1]
        if n.isdigit() and int(n) >= 1:
            return ClusterSpec("local", workers=int(n))
    elif isinstance(value, str) and _ADDRESS.match(value):
        return ClusterSpec("address", address=value)
    raise ValueError(
        f"{PARAM}: expected 'none', 'local:N' (N >= 1 worker processes) or a scheduler address such as "
        f"'tcp://host:8786', got {value!r}"
    )


def source_key() -> str:
    """A hash of the library's source files: a shard computed by other code is not reused."""
    global _SOURCE_KEY
    if _SOURCE_KEY is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parent
        for f in sorted(root.rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
        _SOURCE_KEY = h.hexdigest()[:16]
    return _SOURCE_KEY


def shard_key(task: str, payload: dict) -> str:
    """Content key of one shard: the task, its payload, the weights' bytes, the library's source, and the numerics of
    the process (:func:`xai_lib.runtime.numerics`: torch version and CPU kernels), so that results computed with one
    CPU's kernels are never served to a run on another's (the other-CPU check must recompute them)."""
    from .runtime import numerics
    from .systems import spec_from_mapping

    h = hashlib.sha256(json.dumps({"task": task, "payload": payload}, sort_keys=True, default=str).encode())
    h.update(json.dumps(numerics(), sort_keys=True).encode())
    spec = payload.get("system")
    if spec is not None:
        h.update(spec_from_mapping(spec, "systems").key().encode())
    h.update(source_key().encode())
    return h.hexdigest()[:24]


def _shard_path(task: str, key: str) -> Path:
    return cache_dir() / "shards" / task.replace(":", ".") / f"{key}.pkl"


def _load_shard(task: str, key: str) -> dict[str, pd.DataFrame] | None:
    data = load_checked(_shard_path(task, key))
    if data is None:
        return None
    try:
        return pd.read_pickle(io.BytesIO(data))
    except Exception:  # an unreadable shard is recomputed, like a missing one
        return None


def _save_shard(task: str, key: str, result: dict[str, pd.DataFrame]) -> None:
    buf = io.BytesIO()
    pd.to_pickle(result, buf)
    save_checked(_shard_path(task, key), buf.getvalue())


def resolve_task(task: str) -> Callable[[dict], dict[str, pd.DataFrame]]:
    module, _, name = task.partition(":")
    fn = getattr(importlib.import_module(module), name, None)
    if not callable(fn):
        raise ValueError(f"task: {task!r} is not an importable function ('module:function')")
    return fn


def run_shard(task: str, payload: dict, key: str | None) -> dict[str, pd.DataFrame]:
    """Run one shard (on whichever process executes it) and write its result into the cache (unless ``key`` is
    ``None``)."""
    result = resolve_task(task)(payload)
    if key is not None:
        _save_shard(task, key, result)
    return result


def probe(payload: dict) -> dict[str, pd.DataFrame]:
    """A task that does no work: what a shard costs in scheduling alone (benchmarks/bench_parallel.py)."""
    return {"probe": pd.DataFrame({"shard": [payload.get("shard", 0)]})}


def _system_key(payload: dict) -> str:
    from .systems import spec_from_mapping

    spec = spec_from_mapping(payload["system"], "systems")
    return json.dumps([spec.key(), payload["profile"], payload["seed"], payload.get("device", "cpu"),
                       payload.get("weights")])  # fmt: skip


def system_for(payload: dict):
    """The payload's system, loaded once per process, and the model the chapter used: it is loaded with the
    driver's thread count (``payload["load_threads"]``: the library's own models are trained, bit for bit, at a
    given thread count) and its weights must have the digest ``payload["weights"]``; then the task's threads are
    pinned (``payload["threads"]``)."""
    from . import batching
    from .runtime import pin_threads, tune_allocator
    from .systems import load_system, spec_from_mapping

    key = _system_key(payload)
    if key not in _SYSTEMS:
        tune_allocator()
        if payload.get("load_threads"):
            pin_threads(payload["load_threads"])
        spec = spec_from_mapping(payload["system"], "systems")
        system = load_system(spec, payload["profile"], payload["seed"], payload.get("device", "cpu"))
        want = payload.get("weights")
        if want is not None and system.weights_digest() != want:
            raise RuntimeError(
                f"{PARAM}: this worker loaded other weights for {spec.label!r} (digest {system.weights_digest()}) "
                f"than the chapter's (digest {want}). Registry models that are not shipped are trained per torch "
                "version and thread count: give the workers the chapter's torch and its XAI_LIB_CACHE (a shared "
                "filesystem); a weights "
                "file must have the same bytes on every worker."
            )
        _SYSTEMS[key] = system
    if payload.get("threads"):
        pin_threads(payload["threads"])
    plan = payload.get("plan")
    if plan is not None and batching.default() != batching.Plan(*plan):
        batching.set_default(*plan)
    return _SYSTEMS[key]


def register(system, payload: dict) -> None:
    """Make an already loaded system available to in-process shards (no second copy of the model)."""
    _SYSTEMS[_system_key(payload)] = system


class Runner:
    """Runs tasks on shards for one chapter: ``Runner(cluster)`` starts (``local:N``) or connects to (an address)
    the cluster once; :meth:`map` may be called many times; :meth:`close` (or the end of a ``with`` block, or of
    the process) releases it. ``cluster="none"`` runs in this process."""

    def __init__(
        self, cluster: Any = "none", connect_timeout: float = 5.0, log: Callable[[str], None] = print,
        worker_threads: int | None = None,
    ):  # fmt: skip
        self.spec = parse_cluster(cluster)
        self.worker_threads = _worker_threads(worker_threads)
        self.log = log
        self.client = self._local = None
        self._environ: dict[str, str | None] | None = None  # the values before Dask's nanny wrote its settings
        if self.spec.kind == "none":
            return
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ValueError(f"{PARAM}: Dask clusters need dask.distributed: pip install -e '.[cluster]'") from exc
        if self.spec.kind == "local":
            self._environ = {k: os.environ.get(k) for k in _nanny_keys()}
            try:
                self._local = LocalCluster(
                    n_workers=self.spec.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )  # fmt: skip
                self.client = Client(self._local)
            finally:
                restore_environ(self._environ)
        else:
            try:
                self.client = Client(self.spec.address, timeout=f"{connect_timeout}s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"{PARAM}: cannot reach the Dask scheduler at {self.spec.address!r} within {connect_timeout:g} s "
                    f"({exc})"
                ) from exc
        if self.client.dashboard_link:
            log(f"Dask dashboard: {self.client.dashboard_link}")
        weakref.finalize(self, _close, self.client, self._local, self._environ)

    @property
    def threads(self) -> int | None:
        """Threads each task pins on a cluster: ``worker_threads``, else ``XAI_LIB_WORKER_THREADS``, else this
        process's torch thread count. The model is loaded at this process's count either way (the library's own
        models are trained per thread count; see :func:`system_for`), so only the arithmetic's thread count
        changes. On a machine with ``C`` cores, ``N`` local workers should get about ``C / N`` threads each."""
        import torch

        if self.spec.kind == "none":
            return None
        return self.worker_threads if self.worker_threads is not None else torch.get_num_threads()

    def map(
        self,
        task: str,
        payloads: Sequence[dict],
        *,
        desc: str = "shards",
        images: Sequence[int] | None = None,
        retries: int = 2,
        use_cache: bool = True,
    ) -> list[dict[str, pd.DataFrame]]:
        """Run ``task`` (``"module:function"``) on every payload; results in payload order. ``images``: the number
        of images in each shard (the progress bar counts images per second). Shards already in the cache are
        not recomputed (the log says how many); ``use_cache=False`` neither reads nor writes the cache (timing)."""
        from .runtime import progress

        resolve_task(task)  # fails here, in the caller, for a bad task name
        keys: list = [shard_key(task, p) for p in payloads] if use_cache else [None] * len(payloads)
        results: list[dict[str, pd.DataFrame] | None] = [_load_shard(task, k) if k is not None else None for k in keys]
        todo = [i for i, r in enumerate(results) if r is None]
        sizes = list(images) if images is not None else [1] * len(payloads)
        if len(todo) < len(payloads):
            self.log(f"{desc}: {len(payloads) - len(todo)} of {len(payloads)} shards from the cache")
        if not todo:
            return results  # type: ignore[return-value]
        bar = progress(None, desc=desc, total=sum(sizes[i] for i in todo), unit="img")
        t0 = time.perf_counter()
        if self.client is None:
            for i in todo:
                results[i] = run_shard(task, payloads[i], keys[i])
                bar.update(sizes[i])
        else:
            from distributed import as_completed

            futures = {
                self.client.submit(
                    run_shard, task, payloads[i], keys[i], key=f"{task}-{keys[i] or _fresh_key()}", retries=retries
                ): i
                for i in todo
            }  # fmt: skip
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    bar.update(sizes[i])
            finally:  # a worker restarted during the run wrote the nanny's settings again
                if self._environ is not None:
                    restore_environ(self._environ)
        bar.close()
        self.log(f"{desc}: {len(todo)} shards computed in {time.perf_counter() - t0:.1f} s ({self.spec.kind})")
        return results  # type: ignore[return-value]

    def close(self) -> None:
        _close(self.client, self._local, self._environ)
        self.client = self._local = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _worker_threads(value: int | None) -> int | None:
    """``worker_threads`` or ``XAI_LIB_WORKER_THREADS``: a positive int or None; anything else names its source."""
    name = "worker_threads"
    if value is None:
        raw = settings.raw("XAI_LIB_WORKER_THREADS")
        if not raw:
            return None
        name, value = "XAI_LIB_WORKER_THREADS", int(raw) if raw.isdigit() else raw
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive number of threads per worker, got {value!r}")
    return value


def _fresh_key() -> str:
    import uuid

    return uuid.uuid4().hex


def _close(client, local, environ: Mapping[str, str | None] | None = None) -> None:
    if client is not None:
        client.close()
    if local is not None:
        local.close()
    if environ is not None:
        restore_environ(environ)


def _nanny_keys() -> set[str]:
    """The environment variables Dask's nanny writes into the starting process: its
    ``distributed.nanny.pre-spawn-environ`` settings and ``PYTHONHASHSEED``."""
    import dask.config

    return {*dask.config.get("distributed.nanny.pre-spawn-environ", {}), "PYTHONHASHSEED"}


def restore_environ(saved: Mapping[str, str | None]) -> None:
    """Put the variables of ``saved`` back in ``os.environ`` (``None``: absent); others are left alone.

    Dask's nanny writes its worker settings (``distributed.nanny.pre-spawn-environ``: ``MALLOC_TRIM_THRESHOLD_=
    65536``, ``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``, and ``PYTHONHASHSEED=6640``
    in place of ``0``) into the *starting* process's environment each time it spawns a worker, and never takes
    them back. Every process started from this one afterwards (a notebook kernel, a subprocess, a second
    chapter) would inherit them: measured, a chapter's kernel started after local clusters had run in the same
    process computed its cells three times slower, and ran with another hash seed. The :class:`Runner` of a
    local cluster restores those variables (only those: a change of the user's own is kept) after starting the
    cluster, after every :meth:`Runner.map` and at :meth:`Runner.close`."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        elif os.environ.get(key) != value:
            os.environ[key] = value


def map_shards(task: str, payloads: Sequence[dict], cluster: Any = "none", **kwargs) -> list[dict[str, pd.DataFrame]]:
    """One-shot :meth:`Runner.map` (a cluster started for this call only)."""
    log = kwargs.pop("log", print)
    with Runner(cluster, log=log) as runner:
        return runner.map(task, payloads, **kwargs)


def concat(
    results: Sequence[dict[str, pd.DataFrame]], name: str, labels: Sequence[str] | None = None, column: str = "system"
) -> pd.DataFrame:
    """One table from the shards' results (``name`` picks which of each shard's tables), each shard's rows labelled
    with ``labels[i]`` in ``column`` when given; an empty table (with the shards' columns) when no shard has rows."""
    labels = labels if labels is not None else [None] * len(results)
    parts = [r[name].assign(**({column: lab} if lab is not None else {}))
             for r, lab in zip(results, labels, strict=True) if name in r]  # fmt: skip
    full = [p for p in parts if len(p)]
    if full:
        return pd.concat(full, ignore_index=True)
    return parts[0].iloc[:0] if parts else pd.DataFrame()


def shards_of(indices: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive pieces of ``indices`` of at most ``size`` (the last may be shorter)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"shard_size: expected a positive int, got {size!r}")
    idx = [int(i) for i in indices]
    return [idx[a : a + size] for a in range(0, len(idx), size)]
