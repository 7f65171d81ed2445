"""Analyses of the results table (one row per run × representation; study/columns.py).

One module per paper section, each a set of pure functions of the DataFrame:
``total_correlation`` (§5.1, C2/C3), ``correlation`` (§5.2, C4), ``variance``
(§5.3, C5/C6), ``selection`` (§5.4, C7/C8/C10), ``transfer`` (Table 1, C9),
``downstream`` (§5.5, C11/C12). ``results_table`` holds the table's keys and
shared checks, ``paper_values`` the paper's numbers, ``paper_claims`` the claims
(one declaration each: text, statistic, rule, requirements, chapter), ``bootstrap`` CIs
over runs, ``signal`` which scores beat their rotated twins (the gate on the claims about scores),
``claims`` the paper-vs-run table (per chapter: ``chapter_claims``), ``verdict`` the
"Does it reproduce?" page, ``plots`` every figure of the book,
``render`` markdown/HTML tables, ``chapters`` the notebooks' glue, ``synthetic``
fake tables with planted effects for tests and notebook development.
"""
