"""The chapters' experiments, one module per chapter, tested without papermill, so that a chapter reads as narrative
and calls. The per-image work of the heavy chapters is a pure per-shard task for :func:`xai_lib.parallel.map_shards`
(``common``: payloads, predictions; ``idgi_tables``: IDGI Tables 1-4; ``co_gap``: the GAX CO-score gap;
``gad_tables``: GAD Tables 1-2; each takes a JSON-ready payload and returns tidy tables). Every chapter's measures,
card claims and result sentences live beside them: ``embedded_benchmark`` (chapter 1: the data and models),
``idgi_noise`` and ``conditioning`` (chapter 2: IDGI's noise, completeness and tiny-gradient steps),
``idgi_tables_report`` (chapter 3: the four tables' verdicts and the TMLR study's questions), ``gad_sweep``
(chapter 4: the alpha sweep), ``gad_tables`` (chapter 5), ``rotation_toy`` (chapter 6: the GAX paper's 2D toy in
closed form), ``co_gap_report`` (chapter 7: the CO-score gap's findings) and ``gax_generative`` (chapter 8: GAX to a
target CO score)."""
