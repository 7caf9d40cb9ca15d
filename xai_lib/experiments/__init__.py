"""The per-image work of the heavy chapters as pure per-shard tasks for :func:`xai_lib.parallel.map_shards`:
``common`` (payloads, predictions), ``idgi_tables`` (IDGI Tables 1-4), ``co_gap`` (the GAX CO-score gap),
``gad_tables`` (GAD Tables 1-2). Each task takes a JSON-ready payload and returns tidy tables."""
