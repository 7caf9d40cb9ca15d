"""The chapters' experiments, one module per chapter family, tested without papermill: the per-image work of the
heavy chapters as pure per-shard tasks for :func:`xai_lib.parallel.map_shards` (``common``: payloads, predictions;
``idgi_tables``: IDGI Tables 1-4; ``co_gap``: the GAX CO-score gap; ``gad_tables``: GAD Tables 1-2; each takes a
JSON-ready payload and returns tidy tables), and the measures, card claims and result sentences of the others
(``embedded_benchmark``: the data and models of chapter 1; ``idgi_noise``: IDGI's noise and completeness, chapter 2;
``conditioning``: IDGI's tiny-gradient steps; ``gax_generative``: where GAX changes an image; ``rotation_toy``: the
GAX paper's 2D toy in closed form)."""
