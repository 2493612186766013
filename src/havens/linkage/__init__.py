"""Finding the same person across registration lists: Arabic-name normalisation, blocking,
Fellegi–Sunter matching (EM-trained), clustering without chaining relatives.

Modules: ``normalise``/``phonetic`` (names → keys), ``files`` (CSV/HXL input), ``features``
(comparison levels in SQL), ``blocking`` (frequency-aware candidate pairs), ``model`` (m/u, EM,
JSON), ``cluster``, ``engine_duckdb`` (end to end), ``synth`` (labelled test populations),
``evaluate`` (pairwise precision/recall/F1). The registry review queue: ``models`` (runs,
candidate pairs, merges), ``access`` (whose individuals a caller may match), ``registry`` (the
engine over registered individuals, incremental), ``service`` (run, queue, detail), ``review``
(confirm, reject, unmerge), ``router``. Only this package may import Splink (lazily).
"""
